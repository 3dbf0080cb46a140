"""Memory's tunables. Read through ``settings`` so an operator can override them (see docs/memory.md)."""

from __future__ import annotations

from django.conf import settings


def half_life_days() -> float:
    """Days after which an inferred interest counts half as much as on the day it was shown."""
    return float(getattr(settings, "MEMORY_AFFINITY_HALF_LIFE_DAYS", 30))


def summary_retention_days() -> int:
    """Conversation summaries older than this are deleted by the daily cleanup task."""
    return int(getattr(settings, "MEMORY_SUMMARY_RETENTION_DAYS", 180))


def view_dedupe_seconds() -> int:
    """Reloading a product page within this window counts as one view, not many."""
    return int(getattr(settings, "MEMORY_VIEW_DEDUPE_SECONDS", 1800))


def warm_inline_listings() -> int:
    """How many of a shopper's most recent recommended listings a memory write ranks again itself,
    after its commit and before it answers (the rest, and these again at no cost, by the background
    task): the listing the shopper goes back to right after "I prefer ..." is ready when they do."""
    return max(0, int(getattr(settings, "MEMORY_WARM_INLINE_LISTINGS", 1)))


# How much each kind of signal adds to an affinity (before decay).
SIGNAL_WEIGHTS: dict[str, float] = {"view": 1.0, "cart_add": 3.0, "purchase": 5.0}
# Below this decayed score an affinity is noise: the cleanup task deletes it and nothing shows it.
AFFINITY_FLOOR = 0.05
# A task receipt only has to outlive a redelivery of the same task.
RECEIPT_RETENTION_DAYS = 7
