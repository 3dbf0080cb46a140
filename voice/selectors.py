"""Reads for voice recovery: the merged configuration, abandoned carts, counts for guardrails, stats."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import DatabaseError
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from carts.models import AbandonmentReason, Cart, CartLine
from commerce.accounts.models import User
from commerce.money import percent
from voice.conf import env_values
from voice.models import (
    OPEN_STATES,
    AttemptStatus,
    CallAttempt,
    JobState,
    RecoveryCode,
    RecoveryJob,
    Suppression,
    VoiceAlert,
    VoiceSettings,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VoiceConfig:
    abandonment_minutes: int
    abandonment_max_age_hours: int
    scheduler_enabled: bool
    scan_interval_seconds: int
    max_attempts_per_cart: int
    max_calls_per_user_per_day: int
    max_calls_per_day: int
    daily_budget_usd: Decimal
    estimated_cost_per_call_usd: Decimal
    quiet_hours_start: int
    quiet_hours_end: int
    retry_backoff_seconds: tuple[int, ...]
    script_version: str
    script_template: str
    kill_switch: bool
    default_timezone: str
    alert_backlog_threshold: int
    alert_failure_ratio_threshold: Decimal
    attribution_hours: int
    call_timeout_minutes: int
    celery_queue: str
    simulator_callback_url: str
    simulator_callback_delay_seconds: int
    store_name: str
    superu_enabled: bool
    superu_api_url: str
    superu_api_key: str = field(repr=False)
    superu_assistant_id: str = ""
    superu_from_phone_number: str = ""
    superu_campaign_id: str = ""
    superu_webhook_secret: str = field(default="", repr=False)
    superu_webhook_tolerance_seconds: int = 300
    superu_timeout_seconds: float = 10.0

    @property
    def provider_name(self) -> str:
        return "superu" if self.superu_enabled else "simulator"

    def backoff_for(self, failed_attempts: int) -> int:
        """Seconds to wait after the n-th failed attempt (the last delay repeats)."""
        delays = self.retry_backoff_seconds or (60,)
        return delays[min(failed_attempts, len(delays)) - 1]


def parse_backoff(csv: str) -> tuple[int, ...]:
    return tuple(int(p) for p in (s.strip() for s in str(csv).split(",")) if p.isdigit())


# VoiceSettings field -> VOICE_* name it overrides.
_OVERRIDES = {
    "kill_switch": "VOICE_GLOBAL_KILL_SWITCH",
    "scheduler_enabled": "VOICE_RECOVERY_SCHEDULER_ENABLED",
    "abandonment_minutes": "VOICE_ABANDONMENT_MINUTES",
    "max_attempts_per_cart": "VOICE_MAX_ATTEMPTS_PER_CART",
    "max_calls_per_user_per_day": "VOICE_MAX_CALLS_PER_USER_PER_DAY",
    "max_calls_per_day": "VOICE_MAX_CALLS_PER_DAY",
    "daily_budget_usd": "VOICE_DAILY_BUDGET_USD",
    "estimated_cost_per_call_usd": "VOICE_ESTIMATED_COST_PER_CALL_USD",
    "quiet_hours_start": "VOICE_QUIET_HOURS_START",
    "quiet_hours_end": "VOICE_QUIET_HOURS_END",
    "retry_backoff_seconds_csv": "VOICE_RETRY_BACKOFF_SECONDS_CSV",
    "script_version": "VOICE_SCRIPT_VERSION",
    "script_template": "VOICE_SCRIPT_TEMPLATE",
    "default_timezone": "VOICE_DEFAULT_TIMEZONE",
    "alert_backlog_threshold": "VOICE_ALERT_BACKLOG_THRESHOLD",
    "alert_failure_ratio_threshold": "VOICE_ALERT_FAILURE_RATIO_THRESHOLD",
    "attribution_hours": "VOICE_ATTRIBUTION_HOURS",
}


def voice_settings_row() -> VoiceSettings | None:
    return VoiceSettings.objects.filter(pk=VoiceSettings.SINGLETON_PK).first()


def voice_config() -> VoiceConfig:
    """The environment's VOICE_*/SUPERU_* values with the admin's non-empty overrides on top."""
    values = env_values()
    row = voice_settings_row()
    if row is not None:
        for field_name, env_name in _OVERRIDES.items():
            value = getattr(row, field_name)
            if value is not None and value != "":
                values[env_name] = value
    v = values
    return VoiceConfig(
        abandonment_minutes=int(v["VOICE_ABANDONMENT_MINUTES"]),
        abandonment_max_age_hours=int(v["VOICE_ABANDONMENT_MAX_AGE_HOURS"]),
        scheduler_enabled=bool(v["VOICE_RECOVERY_SCHEDULER_ENABLED"]),
        scan_interval_seconds=int(v["VOICE_RECOVERY_SCAN_INTERVAL_SECONDS"]),
        max_attempts_per_cart=int(v["VOICE_MAX_ATTEMPTS_PER_CART"]),
        max_calls_per_user_per_day=int(v["VOICE_MAX_CALLS_PER_USER_PER_DAY"]),
        max_calls_per_day=int(v["VOICE_MAX_CALLS_PER_DAY"]),
        daily_budget_usd=Decimal(str(v["VOICE_DAILY_BUDGET_USD"])),
        estimated_cost_per_call_usd=Decimal(str(v["VOICE_ESTIMATED_COST_PER_CALL_USD"])),
        quiet_hours_start=int(v["VOICE_QUIET_HOURS_START"]) % 24,
        quiet_hours_end=int(v["VOICE_QUIET_HOURS_END"]) % 24,
        retry_backoff_seconds=parse_backoff(v["VOICE_RETRY_BACKOFF_SECONDS_CSV"]),
        script_version=str(v["VOICE_SCRIPT_VERSION"]),
        script_template=str(v["VOICE_SCRIPT_TEMPLATE"]),
        kill_switch=bool(v["VOICE_GLOBAL_KILL_SWITCH"]),
        default_timezone=str(v["VOICE_DEFAULT_TIMEZONE"]) or "UTC",
        alert_backlog_threshold=int(v["VOICE_ALERT_BACKLOG_THRESHOLD"]),
        alert_failure_ratio_threshold=Decimal(str(v["VOICE_ALERT_FAILURE_RATIO_THRESHOLD"])),
        attribution_hours=int(v["VOICE_ATTRIBUTION_HOURS"]),
        call_timeout_minutes=int(v["VOICE_CALL_TIMEOUT_MINUTES"]),
        celery_queue=str(v["VOICE_CELERY_QUEUE"]),
        simulator_callback_url=str(v["VOICE_SIMULATOR_CALLBACK_URL"]),
        simulator_callback_delay_seconds=int(v["VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS"]),
        store_name=str(v["VOICE_STORE_NAME"]),
        superu_enabled=bool(v["SUPERU_ENABLED"]),
        superu_api_url=str(v["SUPERU_API_URL"]).rstrip("/"),
        superu_api_key=str(v["SUPERU_API_KEY"]),
        superu_assistant_id=str(v["SUPERU_ASSISTANT_ID"]),
        superu_from_phone_number=str(v["SUPERU_FROM_PHONE_NUMBER"]),
        superu_campaign_id=str(v["SUPERU_CAMPAIGN_ID"]),
        superu_webhook_secret=str(v["SUPERU_WEBHOOK_SECRET"]),
        superu_webhook_tolerance_seconds=int(v["SUPERU_WEBHOOK_TOLERANCE_SECONDS"]),
        superu_timeout_seconds=float(v["SUPERU_TIMEOUT_SECONDS"]),
    )


def voice_health() -> dict[str, str]:
    """What ``/health`` says of voice: the provider, the kill switch and beat's scan switch.

    Read like every service reads them (the environment with the admin's overrides), so the page
    tells an operator what the next scan will really do. Without the database the overrides are
    unknown, and so is the state.
    """
    try:
        config = voice_config()
    except DatabaseError as exc:
        logger.warning("health: voice settings unreadable: %s", exc)
        return {"provider": "unknown", "killSwitch": "unknown", "scheduler": "unknown"}
    return {
        "provider": "superu" if config.superu_enabled else "simulator",
        "killSwitch": "on" if config.kill_switch else "off",
        "scheduler": "enabled" if config.scheduler_enabled else "disabled",
    }


def webhook_secret(config: VoiceConfig) -> str:
    """The secret callbacks are signed with.

    Without ``SUPERU_WEBHOOK_SECRET`` the simulator still needs one to sign its callbacks; it derives a
    per-installation secret from ``SECRET_KEY``. With SuperU enabled an empty secret means "refuse
    every callback" (returns ""), never "accept unsigned ones".
    """
    if config.superu_webhook_secret:
        return config.superu_webhook_secret
    if config.superu_enabled:
        return ""
    import hashlib
    import hmac

    return hmac.new(settings.SECRET_KEY.encode(), b"voice-simulator-webhook", hashlib.sha256).hexdigest()


def shopper_zone(user: User, config: VoiceConfig) -> ZoneInfo:
    for name in (getattr(user, "timezone", "") or "", config.default_timezone, "UTC"):
        if not name:
            continue
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            continue
    return ZoneInfo("UTC")


def abandoned_carts(*, now: datetime, config: VoiceConfig) -> QuerySet[Cart]:
    """Carts of consenting, reachable, unsuppressed users, left untouched long enough, with no job yet.

    The range on the indexed ``updated_at`` bounds the rows read to the carts abandoned within the
    look-back window, so the cost follows the abandoned carts, not all carts; the EXISTS probes use
    the cart-line and (cart, cart_updated_at) indexes.
    """
    cutoff = now - timedelta(minutes=config.abandonment_minutes)
    oldest = now - timedelta(hours=config.abandonment_max_age_hours)
    already = RecoveryJob.objects.filter(cart_id=OuterRef("pk"), cart_updated_at=OuterRef("updated_at"))
    return (
        Cart.objects.filter(updated_at__lte=cutoff, updated_at__gt=oldest, user__isnull=False)
        .filter(user__voice_opt_in=True, user__is_active=True)
        .exclude(user__phone="")
        .filter(Exists(CartLine.objects.filter(cart_id=OuterRef("pk"))))
        .exclude(Exists(already))
        .exclude(Exists(Suppression.objects.filter(user_id=OuterRef("user_id"))))
    )


def day_bounds(moment: datetime, zone: ZoneInfo) -> tuple[datetime, datetime]:
    """Start and end (exclusive) of the calendar day of ``moment`` in ``zone``, as aware datetimes."""
    local = moment.astimezone(zone)
    start = datetime(local.year, local.month, local.day, tzinfo=zone)
    end_date = local.date() + timedelta(days=1)
    end = datetime(end_date.year, end_date.month, end_date.day, tzinfo=zone)
    return start, end


def attempts_between(start: datetime, end: datetime, *, user_id: int | None = None) -> int:
    """Calls placed in [start, end), optionally to one shopper, for the caps and the budget.

    A call counts once the provider accepted it (it has a call id) or while it may still be in flight;
    an attempt the provider refused or never answered (error, 5xx, timeout) rang nobody and costs
    nothing, so it does not use up the shopper's daily calls.
    """
    qs = CallAttempt.objects.filter(created_at__gte=start, created_at__lt=end).filter(
        Q(provider_call_id__isnull=False) | Q(status__in=(AttemptStatus.PENDING, AttemptStatus.DIALING))
    )
    if user_id is not None:
        qs = qs.filter(job__user_id=user_id)
    return qs.count()


def is_suppressed(user_id: int) -> bool:
    return Suppression.objects.filter(user_id=user_id).exists()


def backlog_count() -> int:
    return RecoveryJob.objects.filter(state__in=(JobState.QUEUED, JobState.RETRYING)).count()


@dataclass(frozen=True)
class FailureRatio:
    failed: int
    finished: int

    @property
    def ratio(self) -> Decimal:
        if not self.finished:
            return Decimal("0")
        return (Decimal(self.failed) / Decimal(self.finished)).quantize(Decimal("0.001"))


def failure_ratio(*, now: datetime) -> FailureRatio:
    """Failed attempts over finished attempts in the last 24 hours."""
    row = CallAttempt.objects.filter(
        created_at__gte=now - timedelta(days=1),
        status__in=(AttemptStatus.COMPLETED, AttemptStatus.FAILED),
    ).aggregate(
        finished=Count("id"),
        failed=Count("id", filter=Q(status=AttemptStatus.FAILED)),
    )
    return FailureRatio(failed=row["failed"] or 0, finished=row["finished"] or 0)


def open_alerts() -> QuerySet[VoiceAlert]:
    return VoiceAlert.objects.filter(resolved_at__isnull=True)


def open_jobs_for_user(user_id: int) -> QuerySet[RecoveryJob]:
    return RecoveryJob.objects.filter(user_id=user_id, state__in=OPEN_STATES)


def recovery_code_lookup(code: str, *, now: datetime | None = None) -> RecoveryCode | None:
    """A valid (unexpired) recovery code, case-insensitive, with its job and cart; None otherwise."""
    code = (code or "").strip().upper()
    if not code:
        return None
    found = RecoveryCode.objects.select_related("job", "cart", "user").filter(code=code).first()
    if found is None or not found.is_valid(now=now):
        return None
    return found


def recovery_code_exists(code: str) -> bool:
    """Whether ``code`` was ever given out as a recovery code (anyone's, expired or used): lets the chat
    read a bare "4F7K2Q" as the code said on our call rather than an order number. Whose it is, whether
    it expired and whether it was used are decided when it is redeemed (``recovery_code_redeem``)."""
    code = (code or "").strip().upper()
    return bool(code) and RecoveryCode.objects.filter(code=code).exists()


@dataclass(frozen=True)
class DayStats:
    day: date
    calls: int
    completed: int
    failed: int
    spend: Decimal


@dataclass(frozen=True)
class ReasonStats:
    """Recovery of the carts left for one reason ("" : no reason given)."""

    reason: str
    label: str
    jobs: int
    called: int
    not_called: int
    recovered: int
    revenue: Decimal

    @property
    def recovery_rate(self) -> Decimal:
        if not self.jobs:
            return Decimal("0")
        return (Decimal(self.recovered) / Decimal(self.jobs) * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class VoiceStats:
    days: list[DayStats]
    outcomes: dict[str, int]
    jobs_total: int
    jobs_completed: int
    jobs_recovered: int
    recovered_revenue: Decimal
    recovered_by_day: dict[date, Decimal]
    budget: Decimal
    estimated_cost: Decimal
    by_reason: list[ReasonStats]

    @property
    def recovery_rate(self) -> Decimal:
        return percent(self.jobs_recovered, self.jobs_completed)


def _stats_by_reason(jobs: QuerySet[RecoveryJob]) -> list[ReasonStats]:
    """One row per reason the shoppers gave (most jobs first): how many were called and came back."""
    labels = {"": "No reason given", **dict(AbandonmentReason.choices)}
    rows = (
        jobs.values("reason")
        .annotate(
            n=Count("id"),
            called=Count("id", filter=Q(attempts__gt=0)),
            recovered_n=Count("id", filter=Q(recovered=True)),
            revenue=Sum("recovered_amount", filter=Q(recovered=True)),
        )
        .order_by("-n", "reason")
    )
    return [
        ReasonStats(
            reason=row["reason"],
            label=labels.get(row["reason"], row["reason"]),
            jobs=row["n"],
            called=row["called"],
            not_called=row["n"] - row["called"],
            recovered=row["recovered_n"],
            revenue=row["revenue"] or Decimal("0.00"),
        )
        for row in rows
    ]


def voice_stats(
    *, now: datetime | None = None, days: int = 14, config: VoiceConfig | None = None
) -> VoiceStats:
    """Figures for the admin's stats page, in a fixed number of queries (UTC days)."""
    now = now or timezone.now()
    config = config or voice_config()
    first = (now - timedelta(days=days - 1)).date()
    since = datetime(first.year, first.month, first.day, tzinfo=ZoneInfo("UTC"))
    per_day = {
        row["day"]: row
        for row in CallAttempt.objects.filter(created_at__gte=since)
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(
            calls=Count("id"),
            completed=Count("id", filter=Q(status=AttemptStatus.COMPLETED)),
            failed=Count("id", filter=Q(status=AttemptStatus.FAILED)),
        )
    }
    day_list = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        row = per_day.get(day, {})
        calls = row.get("calls", 0)
        day_list.append(
            DayStats(
                day=day,
                calls=calls,
                completed=row.get("completed", 0),
                failed=row.get("failed", 0),
                spend=(config.estimated_cost_per_call_usd * calls).quantize(Decimal("0.01")),
            )
        )
    jobs = RecoveryJob.objects.filter(created_at__gte=since)
    outcomes = {row["state"]: row["n"] for row in jobs.values("state").annotate(n=Count("id"))}
    totals = jobs.aggregate(
        n_total=Count("id"),
        n_completed=Count("id", filter=Q(state=JobState.COMPLETED)),
        n_recovered=Count("id", filter=Q(recovered=True)),
        revenue=Sum("recovered_amount", filter=Q(recovered=True)),
    )
    recovered_by_day = {
        row["day"]: row["amount"]
        for row in RecoveryJob.objects.filter(recovered=True, recovered_at__gte=since)
        .annotate(day=TruncDate("recovered_at"))
        .values("day")
        .annotate(amount=Sum("recovered_amount"))
    }
    return VoiceStats(
        by_reason=_stats_by_reason(jobs),
        days=day_list,
        outcomes={state.value: outcomes.get(state.value, 0) for state in JobState},
        jobs_total=totals["n_total"] or 0,
        jobs_completed=totals["n_completed"] or 0,
        jobs_recovered=totals["n_recovered"] or 0,
        recovered_revenue=totals["revenue"] or Decimal("0.00"),
        recovered_by_day=recovered_by_day,
        budget=config.daily_budget_usd,
        estimated_cost=config.estimated_cost_per_call_usd,
    )


@dataclass(frozen=True)
class RecoveryDay:
    """Carts found abandoned by the scan (recovery jobs created) and jobs recovered, on one UTC day."""

    abandoned: int = 0
    recovered: int = 0


def recovery_by_day(*, since: datetime, until: datetime) -> dict[date, RecoveryDay]:
    """Per UTC day in ``[since, until)``: abandoned carts the scan found and carts a call recovered."""
    utc = ZoneInfo("UTC")
    found = {
        row["day"]: row["n"]
        for row in RecoveryJob.objects.filter(created_at__gte=since, created_at__lt=until)
        .annotate(day=TruncDate("created_at", tzinfo=utc))
        .values("day")
        .annotate(n=Count("id"))
    }
    recovered = {
        row["day"]: row["n"]
        for row in RecoveryJob.objects.filter(recovered=True, recovered_at__gte=since, recovered_at__lt=until)
        .annotate(day=TruncDate("recovered_at", tzinfo=utc))
        .values("day")
        .annotate(n=Count("id"))
    }
    return {
        day: RecoveryDay(abandoned=found.get(day, 0), recovered=recovered.get(day, 0))
        for day in found.keys() | recovered.keys()
    }
