"""Sign-ins, sign-outs, failed sign-ins and revoked credentials, from the signals Django and accounts send."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed

from commerce.accounts.models import User
from commerce.audit.context import request_meta_of
from commerce.audit.services import audit_record


def _meta(request: Any):
    return request_meta_of(request) if request is not None and hasattr(request, "META") else None


def on_logged_in(sender: Any, request: Any = None, user: User | None = None, **kwargs: Any) -> None:
    audit_record(action="auth.sign_in", actor=user, obj=user, request_meta=_meta(request))


def on_logged_out(sender: Any, request: Any = None, user: User | None = None, **kwargs: Any) -> None:
    if user is not None:
        audit_record(action="auth.sign_out", actor=user, obj=user, request_meta=_meta(request))


def on_login_failed(sender: Any, credentials: dict | None = None, request: Any = None, **kwargs: Any) -> None:
    # The e-mail tried, never the password (Django already hides it in ``credentials``).
    tried = str((credentials or {}).get("email") or (credentials or {}).get("username") or "")[:254]
    audit_record(
        action="auth.sign_in_failed",
        object_type="accounts.user",
        object_id=tried[:64],
        summary={"email": tried},
        request_meta=_meta(request),
    )


def on_credentials_revoked(sender: Any, *, user: User, reason: str, **kwargs: Any) -> None:
    audit_record(action=f"auth.{reason}", actor=user, obj=user)


def connect() -> None:
    from commerce.accounts.signals import credentials_revoked

    user_logged_in.connect(on_logged_in, dispatch_uid="audit.logged_in")
    user_logged_out.connect(on_logged_out, dispatch_uid="audit.logged_out")
    user_login_failed.connect(on_login_failed, dispatch_uid="audit.login_failed")
    credentials_revoked.connect(on_credentials_revoked, dispatch_uid="audit.credentials_revoked")
