"""What the store remembers about a signed-in shopper: stated preferences, inferred affinities and
short summaries of past conversations. Guests have none of these (their user is None).

Retention (docs/memory.md): preferences until the shopper changes or forgets them; affinities decay
with a half-life (``MEMORY_AFFINITY_HALF_LIFE_DAYS``, 30) and are deleted once negligible; summaries
are kept ``MEMORY_SUMMARY_RETENTION_DAYS`` (180); all of it goes with "forget everything" or the account.
"""

from __future__ import annotations

import math
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from memory import conf


class PreferenceKey(models.TextChoices):
    """One row per key and user, so forgetting one preference deletes exactly its row."""

    SIZE_TOPS = "sizes.tops", "Size for tops"
    SIZE_BOTTOMS = "sizes.bottoms", "Size for bottoms"
    SIZE_SHOES = "sizes.shoes", "Shoe size"
    BRANDS = "brands", "Brands you like"
    DISLIKED_BRANDS = "dislikedBrands", "Brands you avoid"
    CATEGORIES = "categories", "Categories you like"
    STYLES = "styles", "Styles you like"
    COLORS = "colors", "Colours you like"
    DISLIKED_COLORS = "dislikedColors", "Colours you avoid"
    PRICE_MIN = "priceMin", "Lowest price"
    PRICE_MAX = "priceMax", "Highest price"


class Preference(models.Model):
    """A stated preference. ``value`` is a string (sizes, prices as two-place decimals) or a list of
    strings (brands, categories, styles, colours), always in the catalog's own spelling."""

    class Source(models.TextChoices):
        CHAT = "chat", "Chat"
        PAGE = "page", "Memory page"
        API = "api", "API"

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences")
    key = models.CharField(max_length=20, choices=PreferenceKey.choices)
    value = models.JSONField()
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.API)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["user_id", "key"]
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="preference_one_per_key")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}={self.value}"


class AffinityKind(models.TextChoices):
    PRODUCT = "product", "Product"
    CATEGORY = "category", "Category"
    BRAND = "brand", "Brand"


class Affinity(models.Model):
    """An inferred interest, from views, cart adds and purchases (``conf.SIGNAL_WEIGHTS``).

    ``score`` is the value at ``last_event_at``; what it is worth now is ``decayed_score()``: halved
    every half-life since. A new signal folds the decayed value in and restarts the clock, which is
    exact exponential decay of the sum of all signals without storing each one. A float is fine:
    this is a weight, not money.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="affinities")
    kind = models.CharField(max_length=10, choices=AffinityKind.choices)
    # Product and category: the id; brand: the lower-cased name (brands are not rows).
    key = models.CharField(max_length=100)
    # What the shopper sees ("Running Shoes", "Stride", a product's name), kept so reads need no join.
    label = models.CharField(max_length=200)
    score = models.FloatField()
    last_event_at = models.DateTimeField()

    class Meta:
        ordering = ["user_id", "kind", "-score"]
        verbose_name_plural = "affinities"
        constraints = [
            models.UniqueConstraint(fields=["user", "kind", "key"], name="affinity_one_per_key"),
            models.CheckConstraint(condition=Q(score__gte=0), name="affinity_score_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.kind}:{self.label} {self.score:.2f}"

    def decayed_score(self, now: datetime | None = None) -> float:
        return decay(self.score, self.last_event_at, now or timezone.now())


def decay(score: float, since: datetime, now: datetime) -> float:
    """``score`` after exponential decay from ``since`` to ``now`` (never grows for a future ``since``)."""
    days = max(0.0, (now - since).total_seconds() / 86400)
    return score * math.pow(0.5, days / conf.half_life_days())


class InteractionSummary(models.Model):
    """One short line about a conversation ("Asked for trail shoes in 10.5; bought the Ridge 2")."""

    MAX_LENGTH = 280

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="interaction_summaries"
    )
    conversation_label = models.CharField(max_length=100, blank=True)
    text = models.CharField(max_length=MAX_LENGTH)
    channel = models.CharField(max_length=10, default="web")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "interaction summaries"
        indexes = [models.Index(fields=["user", "-created_at"], name="summary_user_created_idx")]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.text[:60]}"


class SignalReceipt(models.Model):
    """A signal task that already ran: its key is unique, so a redelivered task changes nothing."""

    key = models.CharField(max_length=64, unique=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
