from django.urls import path

from commerce.accounts import api, views

app_name = "accounts"

urlpatterns = [
    path("account/login/", views.login_view, name="login"),
    path("account/register/", views.register_view, name="register"),
    path("account/logout/", views.logout_view, name="logout"),
    path("account/", views.account_view, name="account"),
]

api_urlpatterns = [
    path("auth/register", api.RegisterView.as_view(), name="auth-register"),
    path("auth/login", api.LoginView.as_view(), name="auth-login"),
    path("auth/refresh", api.RefreshView.as_view(), name="auth-refresh"),
    path("account", api.AccountView.as_view(), name="account"),
    path("sessions", api.SessionCreateView.as_view(), name="session-create"),
    path("sessions/<str:session_id>", api.SessionDetailView.as_view(), name="session-detail"),
]
