"""Abandoned-cart voice recovery: jobs, call attempts, guardrail decisions, suppressions, alerts.

A :class:`RecoveryJob` is one abandonment of one cart (its ``recovery_key`` is unique, so two scans
cannot create it twice). Each dial is a :class:`CallAttempt`, written *before* the provider is called;
``UniqueConstraint(job, number)`` and the attempt's own status make a redelivered task harmless.
"""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carts.models import AbandonmentReason
from voice.scripts import CODE_ALPHABET, RECOVERY_CODE_LENGTH


class JobState(models.TextChoices):
    QUEUED = "queued", "Queued"
    SCHEDULED = "scheduled", "Scheduled (deferred)"
    CALLING = "calling", "Calling"
    RETRYING = "retrying", "Retrying"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"
    DEAD_LETTER = "dead_letter", "Dead letter"
    CANCELLED = "cancelled", "Cancelled"


# Jobs that may still dial: a pending job is cancelled when its cart changes or the kill switch is on.
PENDING_STATES = (JobState.QUEUED, JobState.SCHEDULED, JobState.RETRYING)
OPEN_STATES = (*PENDING_STATES, JobState.CALLING)

# The state machine. Every move goes through one service in voice/services.py that checks this table.
TRANSITIONS: dict[str, frozenset[str]] = {
    JobState.QUEUED: frozenset({JobState.SCHEDULED, JobState.CALLING, JobState.CANCELLED}),
    JobState.SCHEDULED: frozenset({JobState.SCHEDULED, JobState.CALLING, JobState.CANCELLED}),
    JobState.RETRYING: frozenset({JobState.SCHEDULED, JobState.CALLING, JobState.CANCELLED}),
    JobState.CALLING: frozenset(
        {JobState.COMPLETED, JobState.FAILED, JobState.RETRYING, JobState.DEAD_LETTER, JobState.CANCELLED}
    ),
    # Staff may give a dead-lettered or failed job one more go ("retry now" in the admin).
    JobState.DEAD_LETTER: frozenset({JobState.RETRYING}),
    JobState.FAILED: frozenset({JobState.RETRYING}),
    JobState.COMPLETED: frozenset(),
    JobState.CANCELLED: frozenset(),
}


class RecoveryJobQuerySet(models.QuerySet["RecoveryJob"]):
    def pending(self) -> RecoveryJobQuerySet:
        return self.filter(state__in=PENDING_STATES)

    def due(self, now) -> RecoveryJobQuerySet:
        return self.pending().filter(next_attempt_at__lte=now)


class RecoveryJob(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_jobs")
    # SET_NULL: the job's history outlives a cart deleted at checkout.
    cart = models.ForeignKey("carts.Cart", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    recovery_key = models.CharField(max_length=80, unique=True, help_text="cart id + abandonment time")
    cart_updated_at = models.DateTimeField(help_text="The cart's last change when it was found abandoned.")
    cart_total = models.DecimalField(max_digits=12, decimal_places=2, default=Decimal("0.00"))
    # Why the shopper left (the cart's reason when the job was found): picks the script and offer, and
    # outlives the cart for the stats.
    reason = models.CharField(max_length=20, choices=AbandonmentReason.choices, blank=True)
    # The one-use discount offered on the call (a shipping code when shipping was the reason).
    offer_code = models.CharField(max_length=40, blank=True)
    state = models.CharField(max_length=12, choices=JobState.choices, default=JobState.QUEUED)
    attempts = models.PositiveSmallIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    last_error = models.TextField(blank=True)
    cancel_reason = models.CharField(max_length=40, blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    summary = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    recovered = models.BooleanField(default=False)
    recovered_order_number = models.CharField(max_length=40, blank=True)
    recovered_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    recovered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecoveryJobQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        # Starting calls (retry now, process now) reaches shoppers' phones: a permission of its own.
        permissions = [("place_call", "Can place recovery calls")]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="voice_job_due"),
            models.Index(fields=["cart", "cart_updated_at"], name="voice_job_cart_abandonment"),
            models.Index(fields=["user", "state"], name="voice_job_user_state"),
        ]

    def __str__(self) -> str:
        return f"Recovery {self.pk} ({self.state}) for {self.user_id}"

    def can_move_to(self, state: str) -> bool:
        return state in TRANSITIONS[self.state]

    def is_pending(self) -> bool:
        return self.state in PENDING_STATES

    @staticmethod
    def key_for(cart_id: int, updated_at) -> str:
        return f"{cart_id}:{updated_at.isoformat()}"


class AttemptStatus(models.TextChoices):
    PENDING = "pending", "Written, not dialled yet"
    DIALING = "dialing", "Dialling (claimed by a worker)"
    ACCEPTED = "accepted", "Accepted by the provider"
    COMPLETED = "completed", "Completed"
    FAILED = "failed", "Failed"


class CallAttempt(models.Model):
    job = models.ForeignKey(RecoveryJob, on_delete=models.CASCADE, related_name="call_attempts")
    number = models.PositiveSmallIntegerField()
    provider = models.CharField(max_length=20)
    provider_call_id = models.CharField(max_length=100, unique=True, null=True, blank=True)
    status = models.CharField(max_length=10, choices=AttemptStatus.choices, default=AttemptStatus.PENDING)
    script_version = models.CharField(max_length=40)
    script = models.TextField()
    recovery_code = models.CharField(max_length=12, blank=True)
    error = models.TextField(blank=True)
    outcome = models.CharField(max_length=40, blank=True)
    duration_seconds = models.PositiveIntegerField(null=True, blank=True)
    cost = models.DecimalField(max_digits=8, decimal_places=2, default=Decimal("0.00"))
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["job", "number"], name="voice_attempt_once_per_number")
        ]
        indexes = [models.Index(fields=["status", "created_at"], name="voice_attempt_status_created")]

    def __str__(self) -> str:
        return f"Attempt {self.number} of job {self.job_id} ({self.status})"

    def is_finished(self) -> bool:
        return self.status in (AttemptStatus.COMPLETED, AttemptStatus.FAILED)


class GuardrailDecision(models.Model):
    """Why an attempt did not happen when it was due (one row per refusal)."""

    class Rule(models.TextChoices):
        KILL_SWITCH = "kill_switch", "Kill switch"
        NO_CONSENT = "no_consent", "No consent"
        NO_PHONE = "no_phone", "No phone number"
        SUPPRESSED = "suppressed", "Suppressed"
        CART_CHANGED = "cart_changed", "Cart changed again"
        CART_EMPTY = "cart_empty", "Cart empty or gone"
        CHECKED_OUT = "checked_out", "Checked out"
        SHOPPER_DECLINED = "shopper_declined", "Shopper said no"
        QUIET_HOURS = "quiet_hours", "Quiet hours"
        USER_DAILY_CAP = "user_daily_cap", "Per-shopper daily cap"
        GLOBAL_DAILY_CAP = "global_daily_cap", "Global daily cap"
        DAILY_BUDGET = "daily_budget", "Daily budget"

    class Action(models.TextChoices):
        DEFERRED = "deferred", "Deferred"
        CANCELLED = "cancelled", "Cancelled"

    job = models.ForeignKey(RecoveryJob, on_delete=models.CASCADE, related_name="guardrail_decisions")
    rule = models.CharField(max_length=20, choices=Rule.choices)
    action = models.CharField(max_length=10, choices=Action.choices)
    detail = models.CharField(max_length=255)
    deferred_until = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rule}: {self.action}"


class Suppression(models.Model):
    class Reason(models.TextChoices):
        SHOPPER_OPT_OUT = "shopper_opt_out", "Opted out by the shopper"
        STAFF = "staff", "Added by staff"
        INVALID_NUMBER = "invalid_number", "Number not reachable"

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    reason = models.CharField(max_length=20, choices=Reason.choices, default=Reason.STAFF)
    note = models.CharField(max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.user} ({self.reason})"


def validate_backoff_csv(value: str) -> None:
    parts = [p.strip() for p in value.split(",") if p.strip()]
    if not parts or not all(p.isdigit() for p in parts):
        raise ValidationError("Give whole seconds separated by commas, like 60,300,900.")


def validate_script_template(value: str) -> None:
    from voice.scripts import script_render_text

    try:
        script_render_text(
            template=value, name="Ada", store="Shop", items="1 x Shoe", total="$1.00", code="AB12CD", offer=""
        )
    except (KeyError, IndexError, ValueError) as exc:
        raise ValidationError(
            f"The template does not format: {exc}. "
            "Use {name}, {store}, {items}, {total}, {code}, {offer}."
        ) from None


HOUR = [MinValueValidator(0), MaxValueValidator(23)]


class VoiceSettings(models.Model):
    """Run-time overrides of the VOICE_* environment settings; an empty field keeps the environment's value.

    One row (pk=1). SuperU credentials stay in the environment on purpose: secrets do not belong in a
    table every staff member with admin access can read.
    """

    SINGLETON_PK = 1

    kill_switch = models.BooleanField(
        null=True, blank=True, help_text="On: pending jobs are cancelled at once and nothing dials."
    )
    scheduler_enabled = models.BooleanField(null=True, blank=True)
    abandonment_minutes = models.PositiveIntegerField(null=True, blank=True)
    max_attempts_per_cart = models.PositiveSmallIntegerField(null=True, blank=True)
    max_calls_per_user_per_day = models.PositiveSmallIntegerField(null=True, blank=True)
    max_calls_per_day = models.PositiveIntegerField(null=True, blank=True)
    daily_budget_usd = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    estimated_cost_per_call_usd = models.DecimalField(max_digits=8, decimal_places=2, null=True, blank=True)
    quiet_hours_start = models.PositiveSmallIntegerField(null=True, blank=True, validators=HOUR)
    quiet_hours_end = models.PositiveSmallIntegerField(null=True, blank=True, validators=HOUR)
    retry_backoff_seconds_csv = models.CharField(
        max_length=100, blank=True, validators=[validate_backoff_csv]
    )
    script_version = models.CharField(max_length=40, blank=True)
    script_template = models.TextField(blank=True, validators=[validate_script_template])
    default_timezone = models.CharField(max_length=64, blank=True)
    alert_backlog_threshold = models.PositiveIntegerField(null=True, blank=True)
    alert_failure_ratio_threshold = models.DecimalField(max_digits=4, decimal_places=3, null=True, blank=True)
    attribution_hours = models.PositiveIntegerField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "voice settings"
        verbose_name_plural = "voice settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="voice_settings_singleton")]

    def __str__(self) -> str:
        return "Voice recovery settings"

    def clean(self) -> None:
        if self.default_timezone:
            from commerce.accounts.models import validate_timezone

            validate_timezone(self.default_timezone)


class VoiceAlert(models.Model):
    class Kind(models.TextChoices):
        BACKLOG = "backlog", "Backlog"
        FAILURE_RATIO = "failure_ratio", "Failure ratio"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    value = models.DecimalField(max_digits=12, decimal_places=3)
    threshold = models.DecimalField(max_digits=12, decimal_places=3)
    message = models.CharField(max_length=255)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            # At most one open alert per kind, whatever runs concurrently.
            models.UniqueConstraint(
                fields=["kind"], condition=Q(resolved_at__isnull=True), name="voice_alert_one_open_per_kind"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind}: {self.message}"


class CallbackReceipt(models.Model):
    """A provider callback already applied: the same body again is acknowledged and changes nothing."""

    provider_call_id = models.CharField(max_length=100)
    body_sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=40)
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at"]
        constraints = [
            models.UniqueConstraint(fields=["provider_call_id", "body_sha256"], name="voice_callback_once")
        ]

    def __str__(self) -> str:
        return f"{self.provider_call_id} {self.status}"


def new_recovery_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


class RecoveryCode(models.Model):
    """A short code said on the call that brings the shopper back to the cart (chat or site)."""

    code = models.CharField(max_length=12, unique=True, default=new_recovery_code)
    job = models.OneToOneField(RecoveryJob, on_delete=models.CASCADE, related_name="recovery_code")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    cart = models.ForeignKey("carts.Cart", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # What the cart held when the call was made: [{"variantId": int, "quantity": int}], to restore it.
    lines = models.JSONField(default=list)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.code

    def is_valid(self, *, now=None) -> bool:
        return (now or timezone.now()) < self.expires_at
