"""The API's one throttle (``DEFAULT_THROTTLE_CLASSES``): the caller's tier and any penalty window.

Kept apart from :mod:`commerce.ratelimit`, which it calls, because DRF imports throttle classes while
``rest_framework.views`` is still loading, before the models and the error module can be imported.
"""

from __future__ import annotations

from rest_framework.throttling import BaseThrottle


class TieredRateThrottle(BaseThrottle):
    def __init__(self) -> None:
        self._retry_after = 0

    def allow_request(self, request, view) -> bool:
        from commerce.logs import bind_user
        from commerce.ratelimit import client_address, client_for, rate_check

        # DRF has just authenticated the request (JWT, access token): its logs name the user from here.
        bind_user(request.user)
        decision = rate_check(client_for(request.user, client_address(request)))
        self._retry_after = decision.retry_after
        return decision.allowed

    def wait(self) -> float | None:
        return self._retry_after or None
