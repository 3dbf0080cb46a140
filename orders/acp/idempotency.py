"""``Idempotency-Key`` on every ACP POST (spec 2026-04-17, section 6), around any endpoint.

The key is claimed by inserting its record *before* the work runs, committed at once, so a second
request with the same key sees it: a different body is a 422, the same body still being worked on a
409 (with ``Retry-After``), a finished one gets the stored answer back with ``Idempotent-Replayed``.
The unique (endpoint, key) index decides a race between two first requests. 5xx answers are not kept
(the key is released), and a claim older than ``ACP_IN_FLIGHT_LEASE_SECONDS`` is taken to have died.
The spec would rather have the record and the work in one transaction; the claim is committed on its
own because a record that only appears at commit could not make a concurrent retry wait (409).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from orders.acp.errors import IdempotencyConflict, IdempotencyInFlight, IdempotencyKeyRequired
from orders.acp.models import AcpIdempotencyRecord

KEY_MAX_LENGTH = 255


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    replayed: bool = False


def _canonical(value: Any) -> Any:
    """Semantic JSON equality: key order does not matter, ``1.0`` is ``1``, null stays unlike absent."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def body_fingerprint(body: Any) -> str:
    canonical = json.dumps(_canonical(body), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def check_key(key: str | None) -> str:
    key = (key or "").strip()
    if not key:
        raise IdempotencyKeyRequired("Idempotency-Key header is required on all POST requests")
    if len(key) > KEY_MAX_LENGTH:
        raise IdempotencyKeyRequired(
            f"Idempotency-Key must be at most {KEY_MAX_LENGTH} characters.", code="invalid_idempotency_key"
        )
    return key


def _in_flight_error() -> IdempotencyInFlight:
    return IdempotencyInFlight(
        "A request with this Idempotency-Key is currently being processed",
        headers={"Retry-After": "1"},
    )


def _claim(*, endpoint: str, key: str, fingerprint: str) -> AcpIdempotencyRecord | Answer:
    """Our new record for this key, or the answer an earlier request with it already earned."""
    now = timezone.now()
    for _ in range(3):
        try:
            with transaction.atomic():
                return AcpIdempotencyRecord.objects.create(
                    endpoint=endpoint,
                    key=key,
                    request_hash=fingerprint,
                    claimed_at=now,
                    expires_at=now + timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS),
                )
        except IntegrityError:
            pass
        with transaction.atomic():
            existing = (
                AcpIdempotencyRecord.objects.select_for_update().filter(endpoint=endpoint, key=key).first()
            )
            if existing is None:
                continue  # released (a 5xx) or purged meanwhile: claim it afresh
            if existing.expires_at <= now:
                existing.delete()
                continue
            if existing.request_hash != fingerprint:
                raise IdempotencyConflict(
                    "Idempotency-Key has already been used with a different request body"
                )
            if existing.in_flight():
                lease = timedelta(seconds=settings.ACP_IN_FLIGHT_LEASE_SECONDS)
                if existing.claimed_at > now - lease:
                    raise _in_flight_error()
                existing.claimed_at = now  # its request died without an answer: this one takes over
                existing.save(update_fields=["claimed_at"])
                return existing
            return Answer(existing.response_status or 200, existing.response_body or {}, replayed=True)
    raise _in_flight_error()


def run_once(*, endpoint: str, key: str, body: Any, work: Callable[[], Answer]) -> Answer:
    """Runs ``work`` once per (endpoint, key, body); see the module docstring for the rest."""
    claimed = _claim(endpoint=endpoint, key=key, fingerprint=body_fingerprint(body))
    if isinstance(claimed, Answer):
        return claimed
    record = claimed
    answer: Answer | None = None
    try:
        answer = work()
    finally:
        if answer is None or answer.status >= 500:
            AcpIdempotencyRecord.objects.filter(pk=record.pk).delete()
        else:
            AcpIdempotencyRecord.objects.filter(pk=record.pk).update(
                response_status=answer.status, response_body=answer.body
            )
    return answer


def records_purge() -> int:
    deleted, _ = AcpIdempotencyRecord.objects.filter(expires_at__lte=timezone.now()).delete()
    return deleted
