"""Writes of memory. Keyword-only, each in its own transaction; guests (``user`` None or anonymous)
get no long-term memory, so every write is a no-op for them.

Used by the memory page and API, by the assistant's tools (``save_preference``,
``forget_preference``, ``clear_memory``, ``show_memory`` reads the selectors) and by
``memory/receivers.py`` for implicit signals. Implicit signals never write on the request path:
:func:`memory_record_signal` schedules a Celery task after commit (eager in the embedded run).
"""

from __future__ import annotations

import difflib
import logging
import re
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any, TypeGuard

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser
from commerce.audit.services import audit_record
from commerce.errors import InvalidInput
from commerce.money import quantize
from memory import conf
from memory.errors import (
    AffinityNotFound,
    InvalidPreference,
    MalformedPreferences,
    SummaryNotFound,
    UnknownPreferenceKey,
)
from memory.models import (
    Affinity,
    AffinityKind,
    InteractionSummary,
    Preference,
    PreferenceKey,
    SignalReceipt,
    decay,
)
from memory.selectors import (
    PROFILE_VERSION_KEY,
    PROFILE_VERSION_SECONDS,
    RECENT_LISTINGS_KEPT,
    RECENT_LISTINGS_KEY,
    RECENT_LISTINGS_SECONDS,
    CatalogVocabulary,
    RecentListing,
    catalog_vocabulary,
    listing_identity,
    normalise_term,
    preferences_get,
    profile_version,
    recommended_listings_recent,
    signed_in,
)
from memory.signals import history_forgotten
from memory.sizes import KIND_EXAMPLES, SIZE_KINDS, kinds_accepting, normalise_size
from memory.types import Preferences

logger = logging.getLogger(__name__)

MAX_LIST_ITEMS = 20
MAX_VALUE_LENGTH = 80
MAX_PRICE = Decimal("1000000")

# API field -> (vocabulary field, what to call one value in a message)
LIST_FIELDS: dict[str, tuple[str, str]] = {
    "brands": ("brands", "brand"),
    "dislikedBrands": ("brands", "brand"),
    "categories": ("categories", "category"),
    "styles": ("styles", "style"),
    "colors": ("colors", "colour"),
    "dislikedColors": ("colors", "colour"),
}
# A value liked in one list is no longer disliked in its opposite, and the other way round.
OPPOSITES = {
    "brands": "dislikedBrands",
    "dislikedBrands": "brands",
    "colors": "dislikedColors",
    "dislikedColors": "colors",
}
# The keys DELETE /memory/preferences/{key} and preference_forget() accept -> the rows they remove.
FORGET_KEYS: dict[str, tuple[str, ...]] = {
    "sizes": tuple(f"sizes.{k}" for k in SIZE_KINDS),
    **{f"sizes.{k}": (f"sizes.{k}",) for k in SIZE_KINDS},
    **{name: (name,) for name in LIST_FIELDS},
    "priceRange": (PreferenceKey.PRICE_MIN.value, PreferenceKey.PRICE_MAX.value),
    "price": (PreferenceKey.PRICE_MIN.value, PreferenceKey.PRICE_MAX.value),
    "priceMin": (PreferenceKey.PRICE_MIN.value,),
    "priceMax": (PreferenceKey.PRICE_MAX.value,),
}
UPDATE_FIELDS = ("sizes", *LIST_FIELDS, "priceMin", "priceMax")


def _require_user(user: MaybeUser) -> TypeGuard[User]:
    return signed_in(user)


def _lock_user(user: User) -> None:
    """Serialises one shopper's memory writes (PostgreSQL row lock; SQLite writes are serial anyway)."""
    get_user_model().objects.select_for_update().filter(pk=user.pk).exists()


# --- Preferences ------------------------------------------------------------------------------
@dataclass
class _Problem:
    field: str
    message: str
    value: Any = None
    suggestions: tuple[str, ...] = ()
    # What the API schema already forbids (400); any other problem is a rule refusing it (422).
    malformed: bool = False


def _suggest(key: str, choices: Mapping[str, str]) -> list[str]:
    close = difflib.get_close_matches(key, list(choices), n=3, cutoff=0.6)
    return list(dict.fromkeys(choices[c] for c in close))


def _match_term(field: str, raw: Any, vocabulary: CatalogVocabulary) -> str | _Problem:
    vocab_field, noun = LIST_FIELDS[field]
    choices: dict[str, str] = getattr(vocabulary, vocab_field)
    if not isinstance(raw, str) or not raw.strip():
        return _Problem(field, f"Each {noun} must be a non-empty text.", raw, malformed=True)
    text = " ".join(raw.split())
    if len(text) > MAX_VALUE_LENGTH:
        return _Problem(field, f"A {noun} is at most {MAX_VALUE_LENGTH} characters.", text[:MAX_VALUE_LENGTH])
    key = normalise_term(text)
    candidates = [key]
    if vocab_field == "styles":
        # "slim fit", "casual style" name the style "slim", "casual".
        candidates += [key.removesuffix(suffix).strip() for suffix in (" fit", " style", " look")]
    for candidate in candidates:
        if candidate in choices:
            return choices[candidate]
    suggestions = _suggest(key, choices)
    if suggestions:
        hint = f" Did you mean {' or '.join(suggestions)}?"
    else:
        known = sorted(set(choices.values()), key=str.lower)
        hint = f" We have, for example: {', '.join(known[:8])}." if known else ""
    return _Problem(field, f"We don't have a {noun} called “{text}”.{hint}", text, tuple(suggestions))


def _clean_list(field: str, raw: Any, vocabulary: CatalogVocabulary, problems: list[_Problem]) -> list[str]:
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list | tuple):
        problems.append(_Problem(field, f"{field} must be a list of names.", raw, malformed=True))
        return []
    if len(raw) > MAX_LIST_ITEMS:
        problems.append(_Problem(field, f"{field} holds at most {MAX_LIST_ITEMS} values.", len(raw)))
        return []
    cleaned: dict[str, str] = {}
    for item in raw:
        result = _match_term(field, item, vocabulary)
        if isinstance(result, _Problem):
            problems.append(result)
        else:
            cleaned.setdefault(result.lower(), result)
    return list(cleaned.values())


def _clean_size(kind: str, raw: Any, problems: list[_Problem]) -> str | None:
    size = normalise_size(kind, raw) if isinstance(raw, str | int | float | Decimal) else None
    if size is not None:
        return size
    others = [k for k in kinds_accepting(raw) if k != kind] if raw is not None else []
    hint = f" {raw} looks like a {others[0].rstrip('s')} size." if others else ""
    problems.append(
        _Problem(
            f"sizes.{kind}",
            f"“{raw}” is not a size for {kind}: {kind} come in {KIND_EXAMPLES[kind]}.{hint}",
            raw,
            tuple(others),
            malformed=not isinstance(raw, str),  # the schema's sizes are text
        )
    )
    return None


# A price given as text: digits, an optional "$" and decimals, white space around (the API schema's
# pattern for priceMin/priceMax).
PRICE_TEXT_PATTERN = r"^(\s*\$?[0-9]{1,7}(\.[0-9]+)?\s*)?$"  # empty: forget it


def _clean_price(field: str, raw: Any, problems: list[_Problem]) -> Decimal | None:
    if isinstance(raw, str) and not re.fullmatch(PRICE_TEXT_PATTERN, raw, flags=re.ASCII):
        raw = None  # reported below like any other unreadable amount (the schema forbids it too)
    try:
        price = (
            Decimal(str(raw).strip().lstrip("$")) if isinstance(raw, str | int | float | Decimal) else None
        )
    except InvalidOperation:
        price = None
    if isinstance(raw, bool) or price is None or not price.is_finite() or price < 0 or price > MAX_PRICE:
        # Only text the schema's pattern allows can still be refused here (too large): a rule, not a shape.
        schema_valid = isinstance(raw, str)
        problems.append(
            _Problem(
                field, f"{field} must be an amount from 0 to {MAX_PRICE:,}.", raw, malformed=not schema_valid
            )
        )
        return None
    return quantize(price)


def _raise(problems: list[_Problem]) -> None:
    first = problems[0]
    # 400 when the schema already says no (a shape), else 422: the rule or the catalog refused it.
    error = MalformedPreferences if any(p.malformed for p in problems) else InvalidPreference
    raise error(
        first.message,
        details={
            "field": first.field,
            "value": first.value if isinstance(first.value, str | int | float | None) else str(first.value),
            "suggestions": list(first.suggestions),
            "fields": {p.field: p.message for p in problems},
        },
    )


def preferences_validate(*, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Checks a partial update against the rules and the catalog's vocabulary.

    Returns ``{row key: value or None}`` (None = remove), values in the catalog's spelling. Raises
    :class:`InvalidPreference` naming the first bad value (``details.fields`` has them all, and
    ``details.suggestions`` close matches for an unknown brand, category, colour or style).
    """
    if not isinstance(changes, Mapping):
        raise MalformedPreferences("Send preferences as an object.", details={"field": None})
    unknown = [k for k in changes if k not in UPDATE_FIELDS]
    if unknown:
        raise MalformedPreferences(
            f"Unknown preference “{unknown[0]}”: use {', '.join(UPDATE_FIELDS)}.",
            details={"field": unknown[0], "fields": {k: "Unknown preference." for k in unknown}},
        )
    problems: list[_Problem] = []
    rows: dict[str, Any] = {}
    vocabulary = catalog_vocabulary() if any(k in LIST_FIELDS for k in changes) else None
    if "sizes" in changes:
        sizes = changes["sizes"]
        if sizes is None:
            rows.update({f"sizes.{k}": None for k in SIZE_KINDS})
        elif not isinstance(sizes, Mapping) or any(k not in SIZE_KINDS for k in sizes):
            problems.append(
                _Problem("sizes", "sizes is an object with tops, bottoms and/or shoes.", None, malformed=True)
            )
        else:
            for kind, raw in sizes.items():
                rows[f"sizes.{kind}"] = None if raw in (None, "") else _clean_size(kind, raw, problems)
    for field in LIST_FIELDS:
        if field in changes:
            raw = changes[field]
            values = (
                [] if raw is None else _clean_list(field, raw, vocabulary or catalog_vocabulary(), problems)
            )
            rows[field] = values or None
    for field in ("priceMin", "priceMax"):
        if field in changes:
            raw = changes[field]
            rows[field] = None if raw in (None, "") else _clean_price(field, raw, problems)
    for liked, disliked in (("brands", "dislikedBrands"), ("colors", "dislikedColors")):
        both = {v.lower() for v in rows.get(liked) or []} & {v.lower() for v in rows.get(disliked) or []}
        if both:
            value = sorted(both)[0]
            problems.append(_Problem(disliked, f"“{value}” cannot be both liked and disliked.", value))
    if problems:
        _raise(problems)
    return rows


def _merge(existing: list[str], new: list[str]) -> list[str]:
    merged = {v.lower(): v for v in existing}
    for v in new:
        merged.setdefault(v.lower(), v)
    return list(merged.values())[-MAX_LIST_ITEMS:]


def preferences_update(
    *, user: MaybeUser, changes: Mapping[str, Any], source: str = Preference.Source.API, merge: bool = False
) -> Preferences:
    """Partial update of the stated preferences (``PUT /memory/preferences``, the page, the chat).

    ``changes`` uses the API's names: ``{"sizes": {"tops": "M", "shoes": "10.5"}, "brands": [...],
    "dislikedBrands", "categories", "styles", "colors", "dislikedColors", "priceMin", "priceMax"}``;
    a field left out is unchanged, ``None`` (or an empty list) removes it. Lists replace the stored
    list, unless ``merge=True`` (the chat's "remember I also like Stride"), which adds to it. A brand
    or colour newly liked leaves the disliked list and the other way round. Raises
    :class:`InvalidPreference` (422) with the unknown value and suggestions, or
    :class:`MalformedPreferences` (400) for what the API schema forbids; nothing is written then.
    A guest gets the empty preferences back and nothing is stored.
    """
    if not _require_user(user):
        return Preferences()
    rows = preferences_validate(changes=changes)
    with transaction.atomic():
        _lock_user(user)
        profile_changed(user_id=user.pk)
        stored = {p.key: p for p in Preference.objects.filter(user=user)}
        if merge:
            for field in LIST_FIELDS:
                if rows.get(field) and field in stored:
                    rows[field] = _merge(list(stored[field].value), rows[field])
        for field, opposite in OPPOSITES.items():
            added = {v.lower() for v in rows.get(field) or []}
            if added and opposite not in rows and opposite in stored:
                kept = [v for v in stored[opposite].value if v.lower() not in added]
                if len(kept) != len(stored[opposite].value):
                    rows[opposite] = kept or None
        low = rows["priceMin"] if "priceMin" in rows else _stored_price(stored, "priceMin")
        high = rows["priceMax"] if "priceMax" in rows else _stored_price(stored, "priceMax")
        if low is not None and high is not None and low > high:
            raise InvalidPreference(
                f"The lowest price ({low}) must not be above the highest ({high}).",
                details={"field": "priceMin", "value": str(low), "suggestions": [], "fields": {}},
            )
        for key, value in rows.items():
            if value is None:
                Preference.objects.filter(user=user, key=key).delete()
                continue
            json_value = str(value) if isinstance(value, Decimal) else value
            Preference.objects.update_or_create(
                user=user, key=key, defaults={"value": json_value, "source": source}
            )
    return preferences_get(user=user)


def _stored_price(stored: Mapping[str, Preference], key: str) -> Decimal | None:
    return Decimal(str(stored[key].value)) if key in stored else None


def preference_forget(*, user: MaybeUser, key: str, value: str | None = None) -> bool:
    """Forgets one preference (``DELETE /memory/preferences/{key}``, the page's and chat's "forget").

    ``key``: ``sizes`` (all three), ``sizes.tops``, ``sizes.bottoms``, ``sizes.shoes``, ``brands``,
    ``dislikedBrands``, ``categories``, ``styles``, ``colors``, ``dislikedColors``, ``priceRange``
    (or ``price``), ``priceMin``, ``priceMax``. With ``value`` (list keys only) just that value
    leaves the list ("forget that I like Stride"). The rows are deleted. Returns whether anything
    was forgotten. Raises :class:`UnknownPreferenceKey` (404) for any other key, and
    :class:`InvalidPreference` (422) for a ``value`` with a key that is not a list.
    """
    if key not in FORGET_KEYS:
        raise UnknownPreferenceKey(
            f"There is no preference called “{key}”. Use one of: {', '.join(FORGET_KEYS)}.",
            details={"key": key, "keys": list(FORGET_KEYS)},
        )
    if value is not None and key not in LIST_FIELDS:
        # A rule no schema can state (which keys are lists depends on the path): 422, like the others.
        message = f"Only list preferences can forget one value, not {key}."
        raise InvalidPreference(
            message,
            details={"key": key, "field": key, "value": value, "suggestions": [], "fields": {key: message}},
        )
    if not _require_user(user):
        return False
    with transaction.atomic():
        _lock_user(user)
        profile_changed(user_id=user.pk)
        audit_record(action="memory.forget", actor=user, obj=user, summary={"key": key, "value": value})
        if value is None:
            deleted, _ = Preference.objects.filter(user=user, key__in=FORGET_KEYS[key]).delete()
            return deleted > 0
        row = Preference.objects.filter(user=user, key=key).first()
        if row is None:
            return False
        wanted = normalise_term(value)
        kept = [v for v in row.value if normalise_term(v) != wanted]
        if len(kept) == len(row.value):
            return False
        if kept:
            row.value = kept
            row.save(update_fields=["value", "updated_at"])
        else:
            row.delete()
        return True


def preferences_clear(*, user: MaybeUser) -> int:
    """Forgets every stated preference (``DELETE /memory/preferences``); returns the rows deleted."""
    if not _require_user(user):
        return 0
    with transaction.atomic():
        profile_changed(user_id=user.pk)
        deleted, _ = Preference.objects.filter(user=user).delete()
        audit_record(action="memory.clear_preferences", actor=user, obj=user, summary={"deleted": deleted})
    return deleted


def history_clear(*, user: MaybeUser) -> int:
    """Forgets every conversation summary (``DELETE /memory/history``); returns the rows deleted."""
    if not _require_user(user):
        return 0
    with transaction.atomic():
        deleted, _ = InteractionSummary.objects.filter(user=user).delete()
        audit_record(action="memory.clear_history", actor=user, obj=user, summary={"deleted": deleted})
        _announce_history_forgotten(user)
    return deleted


def affinity_forget(*, user: MaybeUser, affinity_id: int | str) -> None:
    """Forgets one inferred interest; :class:`AffinityNotFound` if it is not this shopper's."""
    text = str(affinity_id)
    if not _require_user(user) or not text.isdigit():
        raise AffinityNotFound("No such remembered interest.", details={"id": text})
    with transaction.atomic():
        _lock_user(user)  # a signal being applied holds it from its read to its upsert
        profile_changed(user_id=user.pk)
        deleted, _ = Affinity.objects.filter(user=user, pk=int(text)).delete()
        if deleted:
            audit_record(action="memory.forget_interest", actor=user, obj=user, summary={"id": text})
    if not deleted:
        raise AffinityNotFound("No such remembered interest.", details={"id": text})


def affinities_clear(*, user: MaybeUser) -> int:
    if not _require_user(user):
        return 0
    with transaction.atomic():
        _lock_user(user)  # a signal being applied holds it from its read to its upsert
        profile_changed(user_id=user.pk)
        deleted, _ = Affinity.objects.filter(user=user).delete()
    return deleted


def memory_clear(*, user: MaybeUser) -> dict[str, int]:
    """Forgets everything (``DELETE /memory``, "forget all"): preferences, affinities, summaries.

    Returns how many of each were deleted. Signals already queued for this shopper still arrive
    afterwards only if they were sent before; their receipts go too.
    """
    if not _require_user(user):
        return {"preferences": 0, "affinities": 0, "history": 0}
    with transaction.atomic():
        _lock_user(user)
        profile_changed(user_id=user.pk)
        counts = {
            "preferences": Preference.objects.filter(user=user).delete()[0],
            "affinities": Affinity.objects.filter(user=user).delete()[0],
            "history": InteractionSummary.objects.filter(user=user).delete()[0],
        }
        SignalReceipt.objects.filter(user=user).delete()
        audit_record(action="memory.clear", actor=user, obj=user, summary=counts)
        _announce_history_forgotten(user)
    return counts


def profile_changed(*, user_id: int) -> None:
    """What the shopper's ranking reads changed: a new memory version, so the cached profile and
    recommended orders are not used again. At once (this request reads fresh) and after commit (a
    profile built meanwhile from the old rows is not kept under the new version). Then, if the shopper
    has looked at recommended listings lately, they are ranked again under the new version by a task
    (after the commit's bump), so the next view finds its order ready."""
    _bump_profile_version(user_id)
    transaction.on_commit(lambda: _bump_profile_version(user_id))
    _schedule_recommended_orders_warm(user_id)


# A warm published later than this (the broker was down and the outbox's sweep sent it) is dropped:
# the shopper has moved on, and their next view ranks on its own.
WARM_STALE_SECONDS = 300


def _schedule_recommended_orders_warm(user_id: int) -> None:
    if not recommended_listings_recent(user_id=user_id):
        return  # nothing to warm (or the cache is away: the next view is cold, as before)
    from commerce.celery import enqueue
    from memory.tasks import warm_recommended_orders_task

    inline = conf.warm_inline_listings()
    if inline and not settings.CELERY_TASK_ALWAYS_EAGER:  # eager, the task below runs here anyway
        # The listing the shopper is most likely to open next, ranked before the write answers: a
        # queued task can still be waiting when they do. robust: a failed warm is logged, never raised.
        transaction.on_commit(
            lambda: recommended_orders_warm(user_id=user_id, most_recent=inline), robust=True
        )
    # robust: run eagerly (the embedded run), a failed warm is logged, never raised into the write.
    enqueue(
        warm_recommended_orders_task,
        kwargs={"user_id": user_id, "requested_at": time.time()},
        robust=True,
    )


def recommended_listing_seen(
    *, user_id: int, search: Mapping[str, Any], recent: list[RecentListing] | None
) -> bool:
    """Remembers that the shopper saw ``search`` in recommended order (``recent``: the list as just
    read with the order). Written only when the search is new to the list or last noted a while ago,
    so a shopper paging through a listing costs no cache write per page. True when written."""
    now = time.time()
    listings = recommended_listings_recent(user_id=user_id, recent=recent or [], now=now)
    identity = listing_identity(search)
    known = next((r for r in listings if r.key == identity), None)
    if known is not None and now - known.seen_at < RECENT_LISTING_REFRESH_SECONDS:
        return False
    entry = RecentListing(key=identity, search=dict(search), seen_at=now)
    kept = [entry, *(r for r in listings if r.key != identity)][:RECENT_LISTINGS_KEPT]
    # A lost race with the shopper's other tab drops one listing from the list: it is only warmed less.
    cache.set(RECENT_LISTINGS_KEY.format(user_id=user_id), kept, RECENT_LISTINGS_SECONDS)
    return True


# How often a listing the shopper keeps viewing has its "seen" time written again.
RECENT_LISTING_REFRESH_SECONDS = 300


def recommended_orders_warm(
    *, user_id: int, requested_at: float | None = None, most_recent: int | None = None
) -> int:
    """Ranks the shopper's recent recommended listings under their current memory version, and renders
    each one's first page of cards, where the next view looks for them:
    ``catalog.listing.recommended_listing_warm`` runs the code the view runs (this app's ranking hook,
    with its cached order; the cards' reasons; the same template and cache key). The profile is built
    (and cached) once for all of them. Returns how many listings were warmed.

    Nothing for a deleted shopper, a shopper with nothing remembered (the view shows the plain order)
    or a search too large for cached candidates (the view ranks it in the database). Safe to run twice:
    it only fills caches under versioned keys, and skips what is already there. ``most_recent``: only
    that many of the newest listings (the write's own warm, ``MEMORY_WARM_INLINE_LISTINGS``).
    """
    if requested_at is not None and time.time() - requested_at > WARM_STALE_SECONDS:
        return 0
    listings = recommended_listings_recent(user_id=user_id)[:most_recent]
    user = get_user_model().objects.filter(pk=user_id, is_active=True).first()
    if not listings or user is None:
        return 0
    from catalog.errors import InvalidSearch
    from catalog.listing import recommended_listing_warm

    warmed = 0
    for listing in listings:
        try:
            warmed += recommended_listing_warm(user=user, search=listing.search)
        except (InvalidSearch, TypeError) as exc:  # remembered by an older release, say
            logger.info("recommended listing not warmed: %s", exc)
    return warmed


def _bump_profile_version(user_id: int) -> None:
    key = PROFILE_VERSION_KEY.format(user_id=user_id)
    try:
        cache.incr(key)
    except ValueError:  # not set yet (or evicted): any new value invalidates
        cache.set(key, profile_version(user_id=user_id) + 1, PROFILE_VERSION_SECONDS)


def _announce_history_forgotten(user: MaybeUser) -> None:
    transaction.on_commit(lambda: history_forgotten.send(sender=InteractionSummary, user=user))


# --- Interaction summaries --------------------------------------------------------------------
def interaction_summary_record(
    *, user: MaybeUser, conversation_label: str, text: str, channel: str = "web"
) -> InteractionSummary | None:
    """Stores one short summary of a conversation ("Looked for trail shoes in 10.5, added the Ridge 2").

    Whitespace is collapsed and the text cut to 280 characters (with an ellipsis). Guests: None,
    nothing stored. Raises :class:`InvalidInput` for an empty text.
    """
    if not _require_user(user):
        return None
    clean = " ".join(str(text or "").split())
    if not clean:
        raise InvalidInput("A summary needs some text.", details={"field": "text"})
    limit = InteractionSummary.MAX_LENGTH
    if len(clean) > limit:
        clean = clean[: limit - 1].rstrip() + "…"
    with transaction.atomic():
        return InteractionSummary.objects.create(
            user=user,
            conversation_label=" ".join(str(conversation_label or "").split())[:100],
            text=clean,
            channel=str(channel or "web")[:10],
        )


def interaction_summary_schedule(
    *, user: MaybeUser, conversation_label: str, text: str, channel: str = "web"
) -> bool:
    """:func:`interaction_summary_record` off the request path (a task after commit). False for guests."""
    if not _require_user(user):
        return False
    from commerce.celery import enqueue
    from memory.tasks import record_summary_task

    user_id = user.pk
    summary = {"user_id": user_id, "conversation_label": conversation_label, "text": text, "channel": channel}
    enqueue(record_summary_task, kwargs=summary)
    return True


# --- Implicit signals -------------------------------------------------------------------------
def memory_record_signal(
    *,
    user_id: int | None,
    product_ids: Sequence[int | str],
    signal: str,
    event_key: str | None = None,
) -> bool:
    """Schedules an affinity update for a shopper's view / cart add / purchase of products.

    The write runs in a Celery task after the current transaction commits (at once when there is
    none), so it never slows the request; a rolled-back order records nothing. ``event_key`` names
    the event (e.g. ``"orderline:42"``) so a repeated signal or a redelivered task counts once.
    Returns False, and schedules nothing, for a guest (``user_id`` None) or no products.
    """
    if signal not in conf.SIGNAL_WEIGHTS:
        raise InvalidInput(f"Unknown signal {signal!r}.", details={"signal": signal})
    ids = sorted({int(p) for p in product_ids if str(p).isdigit()})
    if user_id is None or not ids:
        return False
    from commerce.celery import enqueue
    from memory.tasks import apply_signal_task

    key = event_key or f"{signal}:{uuid.uuid4().hex}"
    payload = {
        "user_id": user_id,
        "product_ids": ids,
        "signal": signal,
        "event_key": key[:64],
        "occurred_at": timezone.now().isoformat(),
    }
    enqueue(apply_signal_task, kwargs=payload)
    return True


def memory_record_view(*, user: MaybeUser, product_id: int | str) -> bool:
    """A product page (or card opened in chat) seen by a signed-in shopper; guests: nothing.

    Reloads within ``MEMORY_VIEW_DEDUPE_SECONDS`` count once (a cache key, before any task).
    """
    if not _require_user(user) or not str(product_id).isdigit():
        return False
    marker = f"memory:viewed:{user.pk}:{product_id}"
    if not cache.add(marker, 1, conf.view_dedupe_seconds()):
        return False
    return memory_record_signal(user_id=user.pk, product_ids=[int(product_id)], signal="view")


def affinity_apply_signal(
    *,
    user_id: int,
    product_ids: Iterable[int],
    signal: str,
    event_key: str,
    occurred_at: datetime | None = None,
) -> bool:
    """Adds a signal's weight to the product, category and brand affinities (what the task runs).

    Each affinity is decayed to the later of its last event and this one before the weight is
    added, so the order in which signals arrive does not matter. Safe to run twice: the
    ``event_key`` receipt is unique, and a second run finds it and changes nothing (returns False).
    Unknown users and products are skipped.
    """
    weight = conf.SIGNAL_WEIGHTS[signal]
    occurred_at = occurred_at or timezone.now()
    products = list(
        Product.objects.filter(pk__in=list(product_ids))
        .select_related("category")
        .only("id", "name", "brand", "category__id", "category__name")
    )
    if not products:
        return False
    bumps: dict[tuple[str, str], tuple[str, float]] = {}

    def bump(kind: str, key: str, label: str) -> None:
        _, current = bumps.get((kind, key), (label, 0.0))
        bumps[(kind, key)] = (label, current + weight)

    for product in products:
        bump(AffinityKind.PRODUCT, str(product.pk), product.name)
        bump(AffinityKind.CATEGORY, str(product.category_id), product.category.name)
        if product.brand:
            bump(AffinityKind.BRAND, product.brand.lower(), product.brand)
    with transaction.atomic():
        # The shopper's row lock is also the check that the shopper exists.
        if not get_user_model().objects.select_for_update().filter(pk=user_id).exists():
            return False
        try:
            with transaction.atomic():
                SignalReceipt.objects.create(key=event_key, user_id=user_id)
        except IntegrityError:
            return False
        match = Q()
        for kind, key in bumps:
            match |= Q(kind=kind, key=key)
        held = Affinity.objects.filter(match, user_id=user_id).values_list(
            "kind", "key", "score", "last_event_at"
        )
        existing = {(kind, key): (score, at) for kind, key, score, at in held}
        rows = []
        for (kind, key), (label, added) in bumps.items():
            score, last_event_at = added, occurred_at
            if (kind, key) in existing:
                before, before_at = existing[(kind, key)]
                last_event_at = max(before_at, occurred_at)
                score = decay(before, before_at, last_event_at) + decay(added, occurred_at, last_event_at)
            rows.append(
                Affinity(
                    user_id=user_id, kind=kind, key=key, label=label, score=score, last_event_at=last_event_at
                )
            )
        # New and existing rows in one statement: every writer of a shopper's affinities (signals,
        # forgetting one or all) takes the shopper's lock first, so what was read is still current.
        Affinity.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "kind", "key"],
            update_fields=["score", "last_event_at", "label"],
        )
        # No new memory version here: interests inferred from browsing reach the cached profile and
        # orders when they expire (PROFILE_CACHE_SECONDS), so a shopper going from a product back to
        # the list finds it ranked already; what the shopper states or forgets counts at once.
    return True


# --- Retention --------------------------------------------------------------------------------
def memory_cleanup(*, now: datetime | None = None) -> dict[str, int]:
    """The daily cleanup: summaries past retention, affinities decayed below notice, old receipts."""
    now = now or timezone.now()
    with transaction.atomic():
        summaries = InteractionSummary.objects.filter(
            created_at__lt=now - timedelta(days=conf.summary_retention_days())
        ).delete()[0]
        receipts = SignalReceipt.objects.filter(
            created_at__lt=now - timedelta(days=conf.RECEIPT_RETENTION_DAYS)
        ).delete()[0]
    # Only rows idle for at least one half-life can have decayed far; check those in batches.
    idle = Affinity.objects.filter(last_event_at__lt=now - timedelta(days=conf.half_life_days()))
    faded: list[int] = []
    for pk, score, last in idle.values_list("id", "score", "last_event_at").iterator(chunk_size=2000):
        if decay(score, last, now) < conf.AFFINITY_FLOOR:
            faded.append(pk)
    affinities = 0
    for start in range(0, len(faded), 1000):
        with transaction.atomic():
            affinities += Affinity.objects.filter(pk__in=faded[start : start + 1000]).delete()[0]
    logger.info("memory cleanup: %s summaries, %s affinities, %s receipts", summaries, affinities, receipts)
    return {"history": summaries, "affinities": affinities, "receipts": receipts}


def summary_forget(*, user: MaybeUser, summary_id: int | str) -> None:
    """Forgets one conversation summary; :class:`commerce.errors.NotFound` if it is not this shopper's."""
    text = str(summary_id)
    deleted = 0
    if _require_user(user) and text.isdigit():
        with transaction.atomic():
            deleted, _ = InteractionSummary.objects.filter(user=user, pk=int(text)).delete()
    if not deleted:
        raise SummaryNotFound("No such conversation summary.", details={"id": text})


def memory_export_for(*, user: User) -> dict[str, Any]:
    """Everything remembered about the shopper, as downloaded from the memory page or the API; the
    download itself is an entry of the audit trail (the data left the store)."""
    from memory.selectors import memory_export

    data = memory_export(user=user)
    audit_record(action="memory.export", actor=user, obj=user)
    return data
