"""The one writer of the audit trail. Services of every app call :func:`audit_record`; nothing else
writes :class:`AuditEvent`, and nothing changes or deletes one (on PostgreSQL a trigger refuses it)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import connection, transaction
from django.db.models import Model
from django.utils import timezone

from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser
from commerce.audit.context import RequestMeta, current_request_meta
from commerce.audit.models import AuditEvent

GENESIS = "0" * 64
# Any fixed 64-bit number: the advisory lock that makes the chain's appends one at a time on PostgreSQL.
_CHAIN_LOCK = 7_348_221_905


def entry_hash(fields: dict[str, Any], previous_hash: str) -> str:
    """SHA-256 over the entry's fields in canonical JSON and the previous entry's hash."""
    canonical = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(f"{previous_hash}|{canonical}".encode()).hexdigest()


def hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_repr": event.actor_repr,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "client_address": event.client_address,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "summary": event.summary,
    }


def audit_record(
    *,
    action: str,
    actor: MaybeUser = None,
    obj: Model | None = None,
    object_type: str = "",
    object_id: str = "",
    summary: dict[str, Any] | None = None,
    request_meta: RequestMeta | None = None,
) -> AuditEvent:
    """Appends one entry (``action`` like ``order.cancel``; ``summary`` a short before/after) to the chain.

    The request's client address, user agent and request id come from ``request_meta`` or, inside a
    request, from the audit middleware. Appends are serialised (an advisory lock on PostgreSQL; SQLite
    writes one transaction at a time) so the chain stays one line under concurrency.
    """
    meta = request_meta or current_request_meta()
    user = actor if isinstance(actor, User) and actor.pk is not None else None  # a guest is no actor
    if obj is not None:
        object_type = object_type or obj._meta.label_lower
        object_id = object_id or str(getattr(obj, "number", None) or obj.pk)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK])
        last = AuditEvent.objects.order_by("-id").values_list("hash", flat=True).first()
        event = AuditEvent(
            created_at=timezone.now(),
            actor=user,
            actor_repr=(user.email or str(user))[:254] if user is not None else "",
            action=action[:64],
            object_type=object_type[:64],
            object_id=str(object_id)[:64],
            object_repr=(str(obj) if obj is not None else "")[:200],
            client_address=meta.client_address,
            user_agent=meta.user_agent,
            request_id=meta.request_id,
            summary=json.loads(json.dumps(summary or {}, default=str)),
            previous_hash=last or GENESIS,
        )
        event.hash = entry_hash(hashed_fields(event), event.previous_hash)
        event.save(force_insert=True)
    return event
