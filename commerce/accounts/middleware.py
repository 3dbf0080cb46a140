from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.functional import SimpleLazyObject

from commerce.accounts.shoppers import ShopperRequest, shopper_from_page


class ShopperMiddleware:
    """Puts ``request.shopper`` on page requests, resolved only when something reads it."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: ShopperRequest) -> HttpResponse:
        # Resolved on first read; a SimpleLazyObject stands in for the Shopper it wraps.
        request.shopper = SimpleLazyObject(lambda: shopper_from_page(request))  # type: ignore[assignment]  # lazy Shopper
        return self.get_response(request)
