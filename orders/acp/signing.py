"""Signatures of the agent platform's requests and of our order events back to it.

Requests: ``Signature`` is base64url (no padding) of HMAC-SHA256 over ``Timestamp + "." + raw body`` with
``ACP_SIGNING_SECRET``; ``Timestamp`` is RFC 3339 and must be within
``ACP_SIGNATURE_TOLERANCE_SECONDS`` of our clock. Order events: ``Merchant-Signature: t=<unix>,v1=<hex>``
over ``t + "." + raw body``, as the protocol's webhook spec says.
"""

from __future__ import annotations

import base64
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from commerce.signing import digests_match, timestamped_hmac
from orders.acp.errors import SignatureInvalid, Unauthorized


def request_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    digest = timestamped_hmac(secret=secret, timestamp=timestamp, body=body)
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _parse_timestamp(value: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise SignatureInvalid("Timestamp must be an RFC 3339 date-time.", code="invalid_timestamp") from None
    if moment.tzinfo is None:
        raise SignatureInvalid("Timestamp must carry its UTC offset.", code="invalid_timestamp")
    return moment


def request_verify(
    *, body: bytes, signature: str | None, timestamp: str | None, now: datetime | None = None
) -> None:
    """Raises 401 unless ``body`` was signed with the shared secret, recently."""
    if not signature or not timestamp:
        raise SignatureInvalid("Send Signature and Timestamp headers.", code="missing_signature")
    sent_at = _parse_timestamp(timestamp)
    now = now or timezone.now()
    if abs((now - sent_at).total_seconds()) > settings.ACP_SIGNATURE_TOLERANCE_SECONDS:
        raise SignatureInvalid("Timestamp outside allowed window.", code="stale_timestamp")
    expected = request_signature(secret=settings.ACP_SIGNING_SECRET, timestamp=timestamp.strip(), body=body)
    if not digests_match(expected, signature.strip().rstrip("=")):
        raise SignatureInvalid("The signature does not match the request.")


def bearer_verify(authorization: str | None) -> None:
    """With ``ACP_API_KEY`` set, the request must carry it as a Bearer token."""
    if not settings.ACP_API_KEY:
        return
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not digests_match(settings.ACP_API_KEY, token.strip()):
        raise Unauthorized("Send Authorization: Bearer <API key>.")


def webhook_signature_header(*, body: bytes, unix_time: int) -> str:
    timestamp = str(unix_time)
    digest = timestamped_hmac(secret=settings.ACP_SIGNING_SECRET, timestamp=timestamp, body=body)
    return f"t={timestamp},v1={digest.hex()}"
