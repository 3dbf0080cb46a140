"""Login throttling (django-axes with its cache handler): failures per account and per client address.

Every door that checks a password (API and page sign-in, the admin sign-in, password change) goes
through ``authenticate(request=...)``, where axes' backend refuses a locked account or address before
the password is looked at and counts each failure. Register counts a refused attempt the same way.
The lock itself is answered by each door (429 ``rate_limited`` or a form error), not by axes.
"""

from __future__ import annotations

from typing import Any

from axes.handlers.proxy import AxesProxyHandler
from axes.utils import reset
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpRequest, HttpResponse

from commerce.errors import RateLimited
from commerce.ratelimit import client_address
from commerce.security_events import record_security_event


def normalise_login(email: str) -> str:
    """The account key axes counts under: one spelling per address, known or not."""
    return (email or "").strip().lower()


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """The e-mail from whichever door: credentials (authenticate's ``username``) or the posted form."""
    credentials = credentials or {}
    value = credentials.get("username") or credentials.get("email")
    if value is None and request is not None and request.method == "POST":
        value = request.POST.get("username") or request.POST.get("email")
    return normalise_login(value or "")


def axes_client_ip(request: HttpRequest) -> str:
    # One address rule for the API limits and the login locks (NUM_PROXIES; no X-Forwarded-For at 0).
    return client_address(request)


def axes_keep_response(request: HttpRequest, original_response: HttpResponse, credentials=None):
    return original_response


def lockout_seconds() -> int:
    return settings.LOGIN_COOLOFF_MINUTES * 60


def lockout_message() -> str:
    minutes = settings.LOGIN_COOLOFF_MINUTES
    return f"Too many failed attempts. Try again in {minutes} minutes."


def login_locked(request: HttpRequest, email: str) -> bool:
    """True when this account or this client address is locked (checked before anything else)."""
    return AxesProxyHandler.is_locked(request, {"username": normalise_login(email)})


def raise_if_locked(request: HttpRequest, email: str) -> None:
    if getattr(request, "axes_locked_out", False) or login_locked(request, email):
        from commerce.audit.context import request_meta_of
        from commerce.audit.services import audit_record

        login = normalise_login(email)
        audit_record(
            action="auth.locked",
            object_type="accounts.user",
            object_id=login[:64],
            summary={"email": login},
            request_meta=request_meta_of(request),
        )
        record_security_event("login_locked", audit=False, email=login)  # audited just above
        raise RateLimited(lockout_message(), retry_after=lockout_seconds())


def login_failure_record(request: HttpRequest, email: str) -> None:
    """Counts a refused attempt at a door that is not ``authenticate`` (register) as axes counts one."""
    user_login_failed.send(sender=__name__, credentials={"username": normalise_login(email)}, request=request)


def login_unlock(*, email: str | None = None, ip_address: str | None = None) -> int:
    """Lifts the lock of an account or an address (staff, from the admin); returns attempts removed."""
    from commerce.audit.services import audit_record

    removed = reset(username=normalise_login(email)) if email else reset(ip=ip_address)
    audit_record(
        action="auth.unlock",
        object_type="accounts.user" if email else "client_address",
        object_id=(email or ip_address or "")[:64],
        summary={"attempts_removed": removed},
    )
    return removed


def lockout_recorded(
    sender: object, *, username: str | None = None, ip_address: str | None = None, **_: Any
) -> None:
    """axes' ``user_locked_out``: an account or address has just been locked (connected in ``ready``)."""
    record_security_event("login_lockout", email=normalise_login(username or ""), address=ip_address or "")
