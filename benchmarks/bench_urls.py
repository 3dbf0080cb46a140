"""The site's URLs plus ``/bench/ping``: the yardstick the listing and API figures are divided by.

The bare view runs through the same middleware on the same server and makes one tiny query, so
the ratio listing/bare shows what search, rendering and serialisation cost on top of "Django
answering with one database round trip".
"""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from catalog.models import Category
from commerce.urls import handler400, handler403, handler404, handler500  # noqa: F401
from commerce.urls import urlpatterns as site_urlpatterns


def bare_view(request: HttpRequest) -> JsonResponse:
    # One small ORM query (one row by primary key order), like the cheapest real endpoint.
    first = Category.objects.order_by("pk").values("id", "name").first()
    return JsonResponse({"category": first})


urlpatterns = [path("bench/ping", bare_view, name="bench-ping"), *site_urlpatterns]
