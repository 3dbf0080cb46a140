"""Reads of the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from commerce.audit.models import AuditEvent
from commerce.audit.services import GENESIS, entry_hash, hashed_fields


@dataclass(frozen=True)
class ChainCheck:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def audit_chain_verify() -> ChainCheck:
    """Walks the chain in order: each entry's hash must be its own fields' hash and name the previous
    entry's hash, so a changed entry breaks its own hash and a removed one breaks its successor's link."""
    previous = GENESIS
    checked = 0
    for event in AuditEvent.objects.order_by("id").iterator(chunk_size=2000):
        if event.previous_hash != previous:
            return ChainCheck(
                False, checked, event.pk, "its link to the entry before it is broken (an entry was removed)"
            )
        if entry_hash(hashed_fields(event), event.previous_hash) != event.hash:
            return ChainCheck(
                False, checked, event.pk, "its content does not match its hash (it was changed)"
            )
        previous = event.hash
        checked += 1
    return ChainCheck(True, checked)
