"""The one place that decides whether a due recovery job may dial now (issue 5, "Guardrails").

:func:`guardrails_check` reads and decides; it writes nothing. ``voice.services.job_attempt_begin``
records every refusal as a :class:`voice.models.GuardrailDecision` and applies it (defer or cancel).
Order matters: reasons that end the job (kill switch, consent, suppression, cart) come before reasons
that only postpone it (quiet hours, caps, budget), so a postponed job is one that will really be called.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from django.apps import apps

from carts.models import AbandonmentReason
from voice import selectors
from voice.models import GuardrailDecision, RecoveryJob
from voice.selectors import VoiceConfig

Rule = GuardrailDecision.Rule
Action = GuardrailDecision.Action
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Verdict:
    allowed: bool
    rule: str = ""
    action: str = ""
    detail: str = ""
    until: datetime | None = None

    @classmethod
    def allow(cls) -> Verdict:
        return cls(allowed=True)

    @classmethod
    def cancel(cls, rule: str, detail: str) -> Verdict:
        return cls(allowed=False, rule=rule, action=Action.CANCELLED, detail=detail)

    @classmethod
    def defer(cls, rule: str, detail: str, until: datetime) -> Verdict:
        return cls(allowed=False, rule=rule, action=Action.DEFERRED, detail=detail, until=until)


def in_quiet_hours(hour: int, start: int, end: int) -> bool:
    """Whether a local ``hour`` is quiet; ``start > end`` crosses midnight (21-8); ``start == end``: none."""
    if start == end:
        return False
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def _local_at(day, hour: int, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=zone)


def quiet_hours_end_after(moment: datetime, zone: ZoneInfo, end_hour: int) -> datetime:
    """The first ``end_hour:00`` local time strictly after ``moment``: when quiet hours are over."""
    local = moment.astimezone(zone)
    candidate = _local_at(local.date(), end_hour, zone)
    if candidate <= local:
        candidate = _local_at(local.date() + timedelta(days=1), end_hour, zone)
    return candidate


def first_callable_time(moment: datetime, zone: ZoneInfo, config: VoiceConfig) -> datetime:
    """``moment`` itself when it is outside quiet hours in ``zone``, otherwise when they end."""
    if in_quiet_hours(moment.astimezone(zone).hour, config.quiet_hours_start, config.quiet_hours_end):
        return quiet_hours_end_after(moment, zone, config.quiet_hours_end)
    return moment


def _ordered_since(user_id: int, since: datetime) -> bool:
    """Whether the shopper placed an order after the cart was abandoned (i.e. checked out)."""
    try:
        order_model = apps.get_model("orders", "Order")
    except LookupError:  # the orders app has no Order model yet
        return False
    field_names = {f.name for f in order_model._meta.get_fields()}
    if not {"user", "created_at"} <= field_names:
        return False
    return order_model.objects.filter(user_id=user_id, created_at__gt=since).exists()


def guardrails_check(*, job: RecoveryJob, now: datetime, config: VoiceConfig) -> Verdict:
    """May ``job`` dial at ``now``? ``job.user`` and ``job.cart`` are read; nothing is written."""
    user = job.user
    if config.kill_switch:
        return Verdict.cancel(Rule.KILL_SWITCH, "The global kill switch is on.")
    if not user.voice_opt_in:
        return Verdict.cancel(Rule.NO_CONSENT, "The shopper has not agreed to recovery calls.")
    if not user.phone:
        return Verdict.cancel(Rule.NO_PHONE, "The shopper has no phone number.")
    if selectors.is_suppressed(user.pk):
        return Verdict.cancel(Rule.SUPPRESSED, "The shopper is on the suppression list.")
    cart = job.cart
    if cart is None:
        return Verdict.cancel(Rule.CART_EMPTY, "The cart is gone (checked out or deleted).")
    if AbandonmentReason.DECLINED in (job.reason, cart.abandonment_reason):
        return Verdict.cancel(Rule.SHOPPER_DECLINED, "The shopper said they do not want the items.")
    if cart.updated_at != job.cart_updated_at:
        return Verdict.cancel(Rule.CART_CHANGED, "The shopper changed the cart after leaving it.")
    if not cart.lines.exists():
        return Verdict.cancel(Rule.CART_EMPTY, "The cart is empty.")
    if _ordered_since(user.pk, job.cart_updated_at):
        return Verdict.cancel(Rule.CHECKED_OUT, "The shopper placed an order after leaving the cart.")

    zone = selectors.shopper_zone(user, config)
    local_hour = now.astimezone(zone).hour
    if in_quiet_hours(local_hour, config.quiet_hours_start, config.quiet_hours_end):
        until = quiet_hours_end_after(now, zone, config.quiet_hours_end)
        return Verdict.defer(
            Rule.QUIET_HOURS,
            f"{local_hour:02d}h in {zone.key} is within quiet hours "
            f"{config.quiet_hours_start:02d}-{config.quiet_hours_end:02d}.",
            until,
        )

    user_day_start, user_day_end = selectors.day_bounds(now, zone)
    user_calls = selectors.attempts_between(user_day_start, user_day_end, user_id=user.pk)
    if user_calls >= config.max_calls_per_user_per_day:
        return Verdict.defer(
            Rule.USER_DAILY_CAP,
            f"{user_calls} calls to this shopper today (cap {config.max_calls_per_user_per_day}).",
            first_callable_time(user_day_end, zone, config),
        )

    day_start, day_end = selectors.day_bounds(now, UTC)
    calls_today = selectors.attempts_between(day_start, day_end)
    if calls_today >= config.max_calls_per_day:
        return Verdict.defer(
            Rule.GLOBAL_DAILY_CAP,
            f"{calls_today} calls today (cap {config.max_calls_per_day}).",
            first_callable_time(day_end, zone, config),
        )
    # The call about to be placed must fit in the budget too: (calls so far + 1) x estimated cost.
    projected = (calls_today + 1) * config.estimated_cost_per_call_usd
    if projected > config.daily_budget_usd:
        return Verdict.defer(
            Rule.DAILY_BUDGET,
            f"Another call would bring today's estimated spend to {projected:.2f} "
            f"(budget {config.daily_budget_usd:.2f}).",
            first_callable_time(day_end, zone, config),
        )
    return Verdict.allow()
