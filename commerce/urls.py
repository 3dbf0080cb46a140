"""Root URLs. Each app's ``urls.py`` exports ``urlpatterns`` (pages) and ``api_urlpatterns`` (``/api/v1``)."""

from importlib import import_module

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from commerce.dashboard import DashboardAdminSite
from commerce.health import health, live
from commerce.security import csp_report, metrics

APPS = ["commerce.accounts", "catalog", "carts", "orders", "conversations", "memory", "voice"]

api_v1 = [p for app in APPS for p in getattr(import_module(f"{app}.urls"), "api_urlpatterns", [])]

# Staff MFA (issue 12): the one admin site, with every ModelAdmin already registered on it, becomes the
# site that asks for an OTP code when ADMIN_MFA_REQUIRED is on (django-otp's documented swap), with the
# staff dashboard on its index (issue 15).
admin.site.__class__ = DashboardAdminSite

urlpatterns = [
    path("admin/", admin.site.urls),
    path("health", health, name="health"),
    path("health/live", live, name="health-live"),
    path("metrics", metrics, name="prometheus-django-metrics"),
    path("csp-report/", csp_report, name="csp-report"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
]
urlpatterns += [path("", include(f"{app}.urls")) for app in APPS]

handler400 = "commerce.views.bad_request"
handler403 = "commerce.views.permission_denied"
handler404 = "commerce.views.page_not_found"
handler500 = "commerce.views.server_error"
