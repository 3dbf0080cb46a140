"""Writes for voice recovery: the scan, the job state machine, attempts, callbacks, attribution, alerts.

State machine (``voice.models.TRANSITIONS``), one function per move:

    queued/scheduled/retrying --job_defer--------> scheduled     (a guardrail postponed it)
    queued/scheduled/retrying --job_begin_call---> calling       (an attempt row is written)
    queued/scheduled/retrying/calling --job_cancel-> cancelled
    calling --job_complete------------> completed
    calling --job_fail----------------> failed        (not worth retrying: the number is invalid)
    calling --job_schedule_retry------> retrying      (failed attempt, attempts left)
    calling --job_dead_letter---------> dead_letter   (failed attempt, none left)
    dead_letter/failed --job_requeue--> retrying      (staff: "retry now")

Each write opens its own transaction and locks the job row, so two workers cannot move one job twice.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from carts.models import Cart, Discount
from carts.selectors import CartTotals, cart_totals, cart_with_lines
from carts.services import discount_create_single_use
from commerce.accounts.models import User
from commerce.accounts.types import MaybeUser
from commerce.audit.services import audit_record
from commerce.errors import DomainError
from commerce.money import money_str, quantize
from commerce.signing import digests_match, timestamped_hmac
from voice import selectors
from voice.errors import (
    IllegalTransition,
    InvalidTimestamp,
    MalformedBody,
    MalformedJson,
    MissingSignature,
    NoAttemptsLeft,
    RecoveryCartGone,
    RecoveryCodeExhausted,
    RecoveryCodeNotFound,
    RecoveryCodeUsed,
    RecoveryJobNotFound,
    SignatureRejected,
    StaleTimestamp,
    UnknownCall,
    WebhookNotConfigured,
)
from voice.guardrails import Action, guardrails_check
from voice.metrics import call_finished
from voice.models import (
    AttemptStatus,
    CallAttempt,
    CallbackReceipt,
    GuardrailDecision,
    JobState,
    RecoveryCode,
    RecoveryJob,
    Suppression,
    VoiceAlert,
    VoiceSettings,
)
from voice.providers import CallRequest, ProviderError, VoiceProvider, provider_for
from voice.scripts import SHIPPING_OFFER_PREFIX, offer_wanted, script_render_text, script_template_for
from voice.selectors import VoiceConfig, voice_config
from voice.signals import call_summarized

logger = logging.getLogger(__name__)

RECOVERY_CODE_TTL = timedelta(days=7)
# Failure-ratio alerts need a few calls first: one failed call out of one is not a trend.
ALERT_MIN_FINISHED_ATTEMPTS = 5


# --- Scripts -------------------------------------------------------------------------------------
def _describe_items(totals: CartTotals, limit: int = 3) -> str:
    parts = [f"{lt.line.quantity} x {lt.line.variant.product.name}" for lt in totals.lines[:limit]]
    rest = len(totals.lines) - limit
    if rest > 0:
        parts.append(f"{rest} more item{'s' if rest > 1 else ''}")
    return ", ".join(parts)


def script_for_job(
    *, job: RecoveryJob, cart: Cart, code: str, config: VoiceConfig
) -> tuple[str, dict[str, Any]]:
    """The call script and the variables sent to the provider (top items, total, recovery code)."""
    totals = cart_totals(cart)
    name = job.user.get_short_name() if job.user.name else "there"
    items = _describe_items(totals)
    total = f"{money_str(totals.total)} {settings.CURRENCY}"
    script = script_render_text(
        template=script_template_for(reason=job.reason, default=config.script_template),
        name=name,
        store=config.store_name,
        items=items,
        total=total,
        code=code,
        offer=job.offer_code,
    )
    variables = {
        "name": name,
        "items": items,
        "total": money_str(totals.total),
        "currency": settings.CURRENCY,
        "recovery_code": code,
        "reason": job.reason,
        "offer_code": job.offer_code,
        "script": script,
        "script_version": config.script_version,
    }
    return script, variables


def _shipping_offer() -> Discount:
    """A one-use code worth the shipping fee, for a shopper whom shipping put off."""
    return discount_create_single_use(
        prefix=SHIPPING_OFFER_PREFIX,
        kind=Discount.Kind.FIXED,
        value=settings.DEFAULT_SHIPPING_FEE,
        valid_for=RECOVERY_CODE_TTL,
    )


# --- State machine -------------------------------------------------------------------------------
def _locked_job(job_id: int) -> RecoveryJob:
    try:
        return (
            RecoveryJob.objects.select_for_update(of=("self",)).select_related("user", "cart").get(pk=job_id)
        )
    except RecoveryJob.DoesNotExist:
        raise RecoveryJobNotFound("No such recovery job.") from None


def _move(job: RecoveryJob, state: str, **fields: Any) -> RecoveryJob:
    if not job.can_move_to(state):
        raise IllegalTransition(
            f"A {job.get_state_display().lower()} job cannot become {state}.",
            details={"from": job.state, "to": state},
        )
    job.state = state
    for name, value in fields.items():
        setattr(job, name, value)
    job.save(update_fields=["state", "updated_at", *fields])
    return job


def _decision(
    job: RecoveryJob,
    *,
    rule: str,
    action: str,
    detail: str,
    until: datetime | None = None,
    now: datetime | None = None,
) -> None:
    GuardrailDecision.objects.create(
        job=job,
        rule=rule,
        action=action,
        detail=detail[:255],
        deferred_until=until,
        created_at=now or timezone.now(),
    )


def job_defer(
    *, job_id: int, until: datetime, rule: str, detail: str, now: datetime | None = None
) -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        _move(job, JobState.SCHEDULED, next_attempt_at=until)
        _decision(job, rule=rule, action=Action.DEFERRED, detail=detail, until=until, now=now)
        return job


def job_cancel(*, job_id: int, reason: str, detail: str = "", now: datetime | None = None) -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        _move(job, JobState.CANCELLED, cancel_reason=reason[:40], next_attempt_at=None)
        _decision(job, rule=reason, action=Action.CANCELLED, detail=detail or reason, now=now)
        return job


def job_begin_call(
    *, job_id: int, config: VoiceConfig, now: datetime, provider_name: str | None = None
) -> CallAttempt:
    """Writes attempt ``attempts + 1`` (status pending) and moves the job to ``calling``.

    The row exists before anyone dials; ``UniqueConstraint(job, number)`` refuses a second one.
    """
    with transaction.atomic():
        job = _locked_job(job_id)
        if job.cart is None:
            raise RecoveryCartGone("The job has no cart any more.")
        number = job.attempts + 1
        code = _recovery_code_for(job, job.cart, now=now)
        if offer_wanted(job.reason) and not job.offer_code:
            job.offer_code = _shipping_offer().code
            RecoveryJob.objects.filter(pk=job.pk).update(offer_code=job.offer_code)
        script, _ = script_for_job(
            job=job, cart=cart_with_lines().get(pk=job.cart.pk), code=code.code, config=config
        )
        attempt = CallAttempt.objects.create(
            job=job,
            number=number,
            provider=provider_name or config.provider_name,
            status=AttemptStatus.PENDING,
            script_version=config.script_version,
            script=script,
            recovery_code=code.code,
            created_at=now,
        )
        _move(job, JobState.CALLING, attempts=number, next_attempt_at=None)
        return attempt


def job_complete(*, job_id: int, outcome: str, summary: str, now: datetime) -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        return _move(job, JobState.COMPLETED, outcome=outcome[:40], summary=summary, completed_at=now)


def job_fail(*, job_id: int, error: str, outcome: str = "") -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        return _move(job, JobState.FAILED, last_error=error, outcome=outcome[:40], next_attempt_at=None)


def job_schedule_retry(*, job_id: int, error: str, now: datetime, config: VoiceConfig) -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        if job.attempts >= config.max_attempts_per_cart:
            raise NoAttemptsLeft("No attempts left: the job must be dead-lettered.")
        delay = config.backoff_for(job.attempts)
        return _move(job, JobState.RETRYING, last_error=error, next_attempt_at=now + timedelta(seconds=delay))


def job_dead_letter(*, job_id: int, error: str) -> RecoveryJob:
    with transaction.atomic():
        job = _locked_job(job_id)
        return _move(job, JobState.DEAD_LETTER, last_error=error, next_attempt_at=None)


def job_requeue(*, job_id: int, now: datetime | None = None) -> RecoveryJob:
    """Staff's "retry now": a pending job becomes due at once; a dead-lettered or failed one gets one
    more attempt (the guardrails still apply when it runs)."""
    now = now or timezone.now()
    with transaction.atomic():
        job = _locked_job(job_id)
        if job.is_pending():
            job.next_attempt_at = now
            job.save(update_fields=["next_attempt_at", "updated_at"])
            return job
        return _move(job, JobState.RETRYING, next_attempt_at=now)


# --- Scan ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScanResult:
    created: int
    cancelled: int


def pending_jobs_cancel_all(*, reason: str, detail: str, now: datetime | None = None) -> int:
    """Cancels every job that has not dialled yet (the kill switch)."""
    cancelled = 0
    for job_id in RecoveryJob.objects.pending().values_list("pk", flat=True):
        try:
            job_cancel(job_id=job_id, reason=reason, detail=detail, now=now)
        except IllegalTransition:  # it started calling meanwhile; the attempt re-checks the switch
            continue
        cancelled += 1
    if cancelled:
        logger.warning("voice: %s pending recovery jobs cancelled (%s)", cancelled, reason)
    return cancelled


def _stale_pending_jobs(now: datetime) -> list[tuple[int, str, str]]:
    """Pending jobs whose cart changed, emptied or vanished since it was found abandoned."""
    stale: list[tuple[int, str, str]] = []
    rows = RecoveryJob.objects.pending().values_list("pk", "cart_id", "cart_updated_at", "cart__updated_at")
    for job_id, cart_id, abandoned_at, cart_updated_at in rows:
        if cart_id is None:
            stale.append(
                (job_id, GuardrailDecision.Rule.CART_EMPTY, "The cart is gone (checked out or deleted).")
            )
        elif cart_updated_at != abandoned_at:
            stale.append((job_id, GuardrailDecision.Rule.CART_CHANGED, "The shopper changed the cart again."))
    return stale


def recovery_scan(*, now: datetime | None = None, config: VoiceConfig | None = None) -> ScanResult:
    """Finds newly abandoned carts and creates one job per abandonment; cancels jobs whose cart moved on.

    Idempotent and safe to run concurrently: ``recovery_key`` is unique and rows are inserted with
    ``ignore_conflicts``, so a second scan (or the same scan twice) adds nothing.
    """
    now = now or timezone.now()
    config = config or voice_config()
    if config.kill_switch:
        return ScanResult(
            created=0,
            cancelled=pending_jobs_cancel_all(
                reason=GuardrailDecision.Rule.KILL_SWITCH, detail="The global kill switch is on.", now=now
            ),
        )
    cancelled = 0
    for job_id, reason, detail in _stale_pending_jobs(now):
        try:
            job_cancel(job_id=job_id, reason=reason, detail=detail, now=now)
            cancelled += 1
        except IllegalTransition:
            continue
    carts = list(cart_with_lines(selectors.abandoned_carts(now=now, config=config)))
    jobs = [
        RecoveryJob(
            user_id=cart.user_id,
            cart=cart,
            recovery_key=RecoveryJob.key_for(cart.pk, cart.updated_at),
            cart_updated_at=cart.updated_at,
            cart_total=cart_totals(cart, now=now).total,
            reason=cart.abandonment_reason,
            state=JobState.QUEUED,
            next_attempt_at=now,
            created_at=now,
        )
        for cart in carts
        if cart.user_id is not None  # abandoned_carts only finds signed-in shoppers' carts
    ]
    with transaction.atomic():
        RecoveryJob.objects.bulk_create(jobs, batch_size=500, ignore_conflicts=True)
    if jobs:
        logger.info("voice: scan found %s abandoned carts", len(jobs))
    return ScanResult(created=len(jobs), cancelled=cancelled)


# --- Attempts ------------------------------------------------------------------------------------
def _recovery_code_for(job: RecoveryJob, cart: Cart, *, now: datetime) -> RecoveryCode:
    existing = RecoveryCode.objects.filter(job=job).first()
    lines = [{"variantId": line.variant_id, "quantity": line.quantity} for line in cart.lines.all()]
    if existing is not None:
        existing.lines = lines
        existing.expires_at = now + RECOVERY_CODE_TTL
        existing.save(update_fields=["lines", "expires_at"])
        return existing
    for _ in range(5):  # a 6-letter code from 32 symbols collides rarely; try a fresh one if it does
        try:
            with transaction.atomic():
                return RecoveryCode.objects.create(
                    job=job,
                    user=job.user,
                    cart=job.cart,
                    lines=lines,
                    expires_at=now + RECOVERY_CODE_TTL,
                    created_at=now,
                )
        except IntegrityError:
            continue
    raise RecoveryCodeExhausted("Could not allocate a recovery code.")


def job_attempt_begin(
    *, job_id: int, now: datetime | None = None, config: VoiceConfig | None = None
) -> CallAttempt | None:
    """Runs the guardrails for a due job and either records the refusal or writes the next attempt.

    Returns the new attempt (to be dialled by :func:`attempt_dial`) or None. Attempt starts are
    serialised on the settings row so the daily caps and budget hold with several workers.
    """
    now = now or timezone.now()
    config = config or voice_config()
    VoiceSettings.objects.get_or_create(pk=VoiceSettings.SINGLETON_PK)
    with transaction.atomic():
        VoiceSettings.objects.select_for_update().get(pk=VoiceSettings.SINGLETON_PK)
        job = _locked_job(job_id)
        if not job.is_pending() or job.next_attempt_at is None or job.next_attempt_at > now:
            return None  # someone else handled it, or it is not due: nothing to do
        verdict = guardrails_check(job=job, now=now, config=config)
        if verdict.allowed:
            return job_begin_call(job_id=job.pk, config=config, now=now)
        if verdict.action == Action.CANCELLED:
            job_cancel(job_id=job.pk, reason=verdict.rule, detail=verdict.detail, now=now)
        elif verdict.until is not None:  # Verdict.defer always names the time
            job_defer(job_id=job.pk, until=verdict.until, rule=verdict.rule, detail=verdict.detail, now=now)
        else:
            raise ValueError(f"Guardrail {verdict.rule} deferred job {job.pk} without saying until when.")
        logger.info("voice: job %s %s by %s: %s", job.pk, verdict.action, verdict.rule, verdict.detail)
        return None


def process_due_jobs(*, now: datetime | None = None, limit: int = 200) -> list[int]:
    """Begins an attempt for every due job (guardrails first); returns the attempts to dial."""
    now = now or timezone.now()
    config = voice_config()
    if config.kill_switch:
        pending_jobs_cancel_all(
            reason=GuardrailDecision.Rule.KILL_SWITCH, detail="The global kill switch is on.", now=now
        )
        return []
    expire_stale_calls(now=now, config=config)
    attempt_ids = []
    due = RecoveryJob.objects.due(now).order_by("next_attempt_at", "pk").values_list("pk", flat=True)[:limit]
    for job_id in list(due):
        try:
            attempt = job_attempt_begin(job_id=job_id, now=now, config=config)
        except (IllegalTransition, IntegrityError) as exc:  # a concurrent processor got there first
            logger.info("voice: job %s skipped: %s", job_id, exc)
            continue
        if attempt is not None:
            attempt_ids.append(attempt.pk)
    return attempt_ids


def _attempt_failed(
    *, attempt_id: int, error: str, now: datetime, config: VoiceConfig, final_outcome: str = ""
) -> None:
    """Records a failed attempt and moves its job on: failed (final), retrying or dead letter."""
    with transaction.atomic():
        attempt = CallAttempt.objects.select_for_update().get(pk=attempt_id)
        attempt.status = AttemptStatus.FAILED
        attempt.error = error
        attempt.finished_at = now
        attempt.save(update_fields=["status", "error", "finished_at"])
        job = _locked_job(attempt.job_id)
        if job.state != JobState.CALLING:
            return
        if final_outcome:
            job_fail(job_id=job.pk, error=error, outcome=final_outcome)
        elif job.attempts >= config.max_attempts_per_cart:
            job_dead_letter(job_id=job.pk, error=error)
            logger.warning("voice: job %s dead-lettered after %s attempts: %s", job.pk, job.attempts, error)
        else:
            job_schedule_retry(job_id=job.pk, error=error, now=now, config=config)


def _attempt_abort(*, attempt_id: int, rule: str, detail: str, now: datetime) -> CallAttempt:
    """A claimed attempt that must not dial after all: it fails and its job is cancelled."""
    with transaction.atomic():
        CallAttempt.objects.filter(pk=attempt_id).update(
            status=AttemptStatus.FAILED, error=detail, finished_at=now
        )
        attempt = CallAttempt.objects.get(pk=attempt_id)
        job_cancel(job_id=attempt.job_id, reason=rule, detail=detail, now=now)
        call_finished("aborted")
    return attempt


def attempt_dial(
    *, attempt_id: int, provider: VoiceProvider | None = None, now: datetime | None = None
) -> CallAttempt:
    """Dials one written attempt exactly once.

    The attempt is claimed (pending -> dialing) by a conditional update before the network call; a
    redelivered task finds it claimed and does nothing, so a worker killed mid-call never dials twice.
    A claimed attempt that never reports back is expired by :func:`expire_stale_calls`.
    """
    now = now or timezone.now()
    claimed = CallAttempt.objects.filter(pk=attempt_id, status=AttemptStatus.PENDING).update(
        status=AttemptStatus.DIALING, started_at=now
    )
    attempt = CallAttempt.objects.select_related("job__user").get(pk=attempt_id)
    if not claimed:
        return attempt
    config = voice_config()
    job = attempt.job
    if config.kill_switch:
        return _attempt_abort(
            attempt_id=attempt_id,
            rule=GuardrailDecision.Rule.KILL_SWITCH,
            detail="Kill switch on before dialling.",
            now=now,
        )
    if job.cart_id is None:
        return _attempt_abort(
            attempt_id=attempt_id, rule=GuardrailDecision.Rule.CART_EMPTY, detail="The cart is gone.", now=now
        )
    provider = provider or provider_for(config)
    _, variables = script_for_job(
        job=job, cart=cart_with_lines().get(pk=job.cart_id), code=attempt.recovery_code, config=config
    )
    variables["script"] = attempt.script  # the text written with the attempt is the one spoken
    request = CallRequest(
        to=job.user.phone,
        customer_name=job.user.name or job.user.email,
        customer_id=str(job.user.pk),
        script=attempt.script,
        variable_values=variables,
    )
    try:
        call = provider.place_call(request)
    except ProviderError as exc:
        logger.warning("voice: attempt %s of job %s failed: %s", attempt.number, job.pk, exc)
        _attempt_failed(attempt_id=attempt.pk, error=str(exc), now=timezone.now(), config=config)
        call_finished("provider_error")
        return CallAttempt.objects.get(pk=attempt_id)
    with transaction.atomic():
        CallAttempt.objects.filter(pk=attempt_id).update(
            status=AttemptStatus.ACCEPTED,
            provider_call_id=call.call_id,
            cost=config.estimated_cost_per_call_usd,
        )
        if call.on_recorded is not None:
            transaction.on_commit(call.on_recorded)
    return CallAttempt.objects.get(pk=attempt_id)


def expire_stale_calls(*, now: datetime, config: VoiceConfig) -> int:
    """Attempts dialling or waiting for a callback for longer than VOICE_CALL_TIMEOUT_MINUTES fail."""
    cutoff = now - timedelta(minutes=config.call_timeout_minutes)
    stale = CallAttempt.objects.filter(
        status__in=(AttemptStatus.PENDING, AttemptStatus.DIALING, AttemptStatus.ACCEPTED),
        created_at__lt=cutoff,
    ).values_list("pk", "status")
    for attempt_id, status in list(stale):
        error = (
            "No callback from the provider in time."
            if status == AttemptStatus.ACCEPTED
            else "The worker stopped before the provider answered; not dialled again."
        )
        _attempt_failed(attempt_id=attempt_id, error=error, now=now, config=config)
        call_finished("timed_out")
    return len(stale)


# --- Callback ------------------------------------------------------------------------------------
COMPLETED_STATUSES = frozenset({"completed", "answered", "ended", "success"})
FAILED_STATUSES = frozenset(
    {"failed", "no_answer", "no-answer", "busy", "voicemail", "canceled", "cancelled", "error", "rejected"}
)
PROGRESS_STATUSES = frozenset({"queued", "initiated", "ringing", "in_progress", "in-progress"})
INVALID_NUMBER_OUTCOMES = frozenset({"invalid_number"})
OPT_OUT_OUTCOMES = frozenset({"opted_out", "do_not_call"})


def callback_signature(*, secret: str, timestamp: str, body: bytes) -> str:
    return timestamped_hmac(secret=secret, timestamp=timestamp, body=body).hex()


def callback_verify(
    *,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    now: float | None = None,
    config: VoiceConfig | None = None,
) -> None:
    """Raises :class:`SignatureRejected` (401) unless the body is signed with the webhook secret, recently."""
    config = config or voice_config()
    secret = selectors.webhook_secret(config)
    if not secret:
        raise WebhookNotConfigured("Callbacks are refused: SUPERU_WEBHOOK_SECRET is not set.")
    if not signature or not timestamp:
        raise MissingSignature(
            "Send X-SuperU-Signature and X-SuperU-Timestamp (or X-Signature and X-Timestamp).",
        )
    try:
        sent_at = int(timestamp.strip())
    except ValueError:
        raise InvalidTimestamp("The timestamp is not a whole number of seconds.") from None
    now = time.time() if now is None else now
    if abs(now - sent_at) > config.superu_webhook_tolerance_seconds:
        raise StaleTimestamp("The timestamp is too far from now.")
    expected = callback_signature(secret=secret, timestamp=timestamp.strip(), body=body)
    given = signature.strip().lower().removeprefix("sha256=")
    if not digests_match(expected, given):
        raise SignatureRejected("The signature does not match the body.")


@dataclass(frozen=True)
class CallbackPayload:
    call_uuid: str
    status: str
    outcome: str
    duration_seconds: int | None
    summary: str


def callback_parse(body: bytes) -> CallbackPayload:
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise MalformedJson("The body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise MalformedBody("The body must be a JSON object.")
    call_uuid, status = data.get("call_uuid"), data.get("status")
    if not isinstance(call_uuid, str) or not call_uuid.strip():
        raise MalformedBody("call_uuid is required.", details={"field": "call_uuid"})
    if not isinstance(status, str) or status.strip().lower() not in (
        COMPLETED_STATUSES | FAILED_STATUSES | PROGRESS_STATUSES
    ):
        raise MalformedBody("status is missing or unknown.", details={"field": "status"})
    duration = data.get("duration_seconds")
    if duration is not None and (
        isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0
    ):
        raise MalformedBody("duration_seconds must be a number.")
    outcome, summary = data.get("outcome") or "", data.get("summary") or ""
    if not isinstance(outcome, str) or not isinstance(summary, str):
        raise MalformedBody("outcome and summary must be strings.")
    return CallbackPayload(
        call_uuid=call_uuid.strip(),
        status=status.strip().lower(),
        outcome=outcome.strip().lower()[:40],
        duration_seconds=int(duration) if duration is not None else None,
        summary=summary.strip()[:4000],
    )


def callback_apply(*, body: bytes, now: datetime | None = None) -> str:
    """Applies a verified callback once. Returns the call id; a repeat is acknowledged and ignored."""
    now = now or timezone.now()
    payload = callback_parse(body)
    digest = hashlib.sha256(body).hexdigest()
    config = voice_config()
    summary_job = None
    with transaction.atomic():
        attempt = CallAttempt.objects.select_for_update().filter(provider_call_id=payload.call_uuid).first()
        if attempt is None:
            raise UnknownCall("No call with this call_uuid.")
        _, created = CallbackReceipt.objects.get_or_create(
            provider_call_id=payload.call_uuid,
            body_sha256=digest,
            defaults={"status": payload.status, "received_at": now},
        )
        if not created or attempt.is_finished() or payload.status in PROGRESS_STATUSES:
            return payload.call_uuid
        if payload.status in COMPLETED_STATUSES:
            attempt.status = AttemptStatus.COMPLETED
            attempt.outcome = payload.outcome or "completed"
            attempt.duration_seconds = payload.duration_seconds
            attempt.finished_at = now
            attempt.save(update_fields=["status", "outcome", "duration_seconds", "finished_at"])
            call_finished("completed")
            job = RecoveryJob.objects.get(pk=attempt.job_id)
            if job.state == JobState.CALLING:
                summary = payload.summary or f"Recovery call completed ({attempt.outcome})."
                job_complete(job_id=job.pk, outcome=attempt.outcome, summary=summary, now=now)
                summary_job = job
            if payload.outcome in OPT_OUT_OUTCOMES:
                suppression_add(
                    user_id=job.user_id,
                    reason=Suppression.Reason.SHOPPER_OPT_OUT,
                    note="Said so on the call.",
                )
        else:
            attempt.outcome = payload.outcome or payload.status
            attempt.duration_seconds = payload.duration_seconds
            attempt.save(update_fields=["outcome", "duration_seconds"])
            final = payload.outcome if payload.outcome in INVALID_NUMBER_OUTCOMES | OPT_OUT_OUTCOMES else ""
            _attempt_failed(
                attempt_id=attempt.pk,
                error=f"Call {payload.status}" + (f" ({payload.outcome})" if payload.outcome else ""),
                now=now,
                config=config,
                final_outcome=final,
            )
            call_finished("failed")
            if payload.outcome in INVALID_NUMBER_OUTCOMES:
                suppression_add(
                    user_id=attempt.job.user_id, reason=Suppression.Reason.INVALID_NUMBER, note=payload.status
                )
            elif payload.outcome in OPT_OUT_OUTCOMES:
                suppression_add(user_id=attempt.job.user_id, reason=Suppression.Reason.SHOPPER_OPT_OUT)
        if summary_job is not None:
            job_id = summary_job.pk
            transaction.on_commit(lambda: _announce_call_summary(job_id=job_id))
    return payload.call_uuid


def _announce_call_summary(*, job_id: int) -> bool:
    """Tells the other apps a call ended with a summary (``voice.signals.call_summarized``); conversations
    adds it to the shopper's conversation. Returns whether there was one to tell."""
    job = RecoveryJob.objects.select_related("user").get(pk=job_id)
    if not job.summary:
        return False
    call_summarized.send(sender=RecoveryJob, user=job.user, summary=job.summary)
    return True


# --- Suppressions, settings, codes ---------------------------------------------------------------
def suppression_add(
    *, user_id: int, reason: str, created_by: User | None = None, note: str = ""
) -> Suppression:
    """Puts a shopper on the do-not-call list and cancels their pending jobs."""
    with transaction.atomic():
        suppression, _ = Suppression.objects.get_or_create(
            user_id=user_id, defaults={"reason": reason, "created_by": created_by, "note": note[:255]}
        )
        for job_id in RecoveryJob.objects.pending().filter(user_id=user_id).values_list("pk", flat=True):
            job_cancel(job_id=job_id, reason=GuardrailDecision.Rule.SUPPRESSED, detail="Suppressed.")
        return suppression


def suppression_remove(*, user_id: int) -> None:
    with transaction.atomic():
        Suppression.objects.filter(user_id=user_id).delete()


def voice_settings_save(*, row: VoiceSettings, actor: MaybeUser = None) -> VoiceSettings:
    """Saves the admin's overrides; turning the kill switch on cancels every pending job at once."""
    with transaction.atomic():
        before: Mapping[str, object] = (
            VoiceSettings.objects.filter(pk=VoiceSettings.SINGLETON_PK).values().first() or {}
        )
        row.pk = VoiceSettings.SINGLETON_PK
        row.save()
        after: Mapping[str, object] = VoiceSettings.objects.filter(pk=row.pk).values().first() or {}
        changed = {k: {"before": before.get(k), "after": v} for k, v in after.items() if before.get(k) != v}
        changed.pop("updated_at", None)
        audit_record(
            action="voice.kill_switch" if "kill_switch" in changed else "voice.settings",
            actor=actor,
            obj=row,
            summary=changed,
        )
    if voice_config().kill_switch:
        pending_jobs_cancel_all(reason=GuardrailDecision.Rule.KILL_SWITCH, detail="Kill switch turned on.")
    return row


@dataclass(frozen=True)
class Redemption:
    code: RecoveryCode
    restored_lines: int


def recovery_code_redeem(*, code: str, user: MaybeUser, now: datetime | None = None) -> Redemption:
    """Brings back the cart behind a code said on the call; only the shopper it was made for may use it,
    before it expires, and only once (the page ``/voice/r/<code>/`` and the chat both come here).

    When the cart still holds items nothing changes; when it was emptied, the items it held at call
    time are added again through the carts service (stock and limits apply; unavailable ones are skipped).
    """
    from carts import services as cart_services
    from commerce.accounts.shoppers import Shopper

    now = now or timezone.now()
    found = selectors.recovery_code_lookup(code, now=now)
    if found is None or not isinstance(user, User) or found.user_id != user.pk:
        raise RecoveryCodeNotFound("That recovery code is unknown or has expired.")
    shopper = Shopper(user=user, session=None)
    restored = 0
    with transaction.atomic():
        # single use, decided by the row: of two redemptions at once exactly one claims the code
        claimed = RecoveryCode.objects.filter(pk=found.pk, used_at__isnull=True).update(used_at=now)
        if not claimed:
            raise RecoveryCodeUsed("That recovery code has already been used.")
        found.used_at = now
        cart = cart_services.cart_get_or_create_for_shopper(shopper=shopper)
        if not cart.lines.exists():
            for line in found.lines:
                try:
                    with transaction.atomic():
                        cart_services.cart_add_item(
                            shopper=shopper, variant_id=line["variantId"], quantity=int(line["quantity"])
                        )
                except DomainError as exc:  # sold out or withdrawn since the call: skip that item
                    logger.info(
                        "voice: recovery code %s could not restore %s: %s", found.code, line, exc.message
                    )
                    continue
                restored += 1
    return Redemption(code=found, restored_lines=restored)


# --- Attribution ---------------------------------------------------------------------------------
def attribution_record_order(
    *, user_id: int, order_number: str, amount: Decimal, placed_at: datetime | None = None
) -> RecoveryJob | None:
    """An order within VOICE_ATTRIBUTION_HOURS after a completed call marks that job recovered.

    Also cancels the shopper's pending jobs: the cart was checked out, nobody should call about it.
    """
    placed_at = placed_at or timezone.now()
    config = voice_config()
    for job_id in RecoveryJob.objects.pending().filter(user_id=user_id).values_list("pk", flat=True):
        try:
            job_cancel(
                job_id=job_id,
                reason=GuardrailDecision.Rule.CHECKED_OUT,
                detail=f"Order {order_number} placed.",
            )
        except IllegalTransition:
            continue
    with transaction.atomic():
        job = (
            RecoveryJob.objects.select_for_update()
            .filter(
                user_id=user_id,
                state=JobState.COMPLETED,
                recovered=False,
                completed_at__lte=placed_at,
                completed_at__gte=placed_at - timedelta(hours=config.attribution_hours),
            )
            .order_by("-completed_at")
            .first()
        )
        if job is None:
            return None
        job.recovered = True
        job.recovered_order_number = str(order_number)[:40]
        job.recovered_amount = quantize(amount)
        job.recovered_at = placed_at
        job.save(
            update_fields=[
                "recovered",
                "recovered_order_number",
                "recovered_amount",
                "recovered_at",
                "updated_at",
            ]
        )
        logger.info("voice: order %s recovered by job %s (%s)", order_number, job.pk, job.recovered_amount)
        return job


# --- Alerts --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class AlertReport:
    backlog: int
    failure_ratio: Decimal
    raised: list[str]


def _alert_raise_or_resolve(
    *, kind: str, firing: bool, value: Decimal, threshold: Decimal, message: str, now: datetime
) -> bool:
    with transaction.atomic():
        current = VoiceAlert.objects.select_for_update().filter(kind=kind, resolved_at__isnull=True).first()
        if firing and current is None:
            try:
                with transaction.atomic():
                    VoiceAlert.objects.create(
                        kind=kind, value=value, threshold=threshold, message=message, created_at=now
                    )
            except IntegrityError:  # a concurrent evaluation opened it first
                return False
            logger.warning("voice alert %s: %s", kind, message)
            return True
        if firing and current is not None:
            current.value = value
            current.save(update_fields=["value"])
        if not firing and current is not None:
            current.resolved_at = now
            current.save(update_fields=["resolved_at"])
            logger.info("voice alert %s resolved", kind)
    return False


def alerts_evaluate(*, now: datetime | None = None, config: VoiceConfig | None = None) -> AlertReport:
    """Backlog (queued + retrying) and last-day failure ratio against their thresholds."""
    now = now or timezone.now()
    config = config or voice_config()
    backlog = selectors.backlog_count()
    ratio = selectors.failure_ratio(now=now)
    raised: list[str] = []
    if _alert_raise_or_resolve(
        kind=VoiceAlert.Kind.BACKLOG,
        firing=backlog > config.alert_backlog_threshold,
        value=Decimal(backlog),
        threshold=Decimal(config.alert_backlog_threshold),
        message=f"{backlog} recovery jobs queued or retrying (threshold {config.alert_backlog_threshold}).",
        now=now,
    ):
        raised.append(VoiceAlert.Kind.BACKLOG)
    if _alert_raise_or_resolve(
        kind=VoiceAlert.Kind.FAILURE_RATIO,
        firing=ratio.finished >= ALERT_MIN_FINISHED_ATTEMPTS
        and ratio.ratio > config.alert_failure_ratio_threshold,
        value=ratio.ratio,
        threshold=config.alert_failure_ratio_threshold,
        message=(
            f"{ratio.failed} of {ratio.finished} calls failed in the last day "
            f"(ratio {ratio.ratio}, threshold {config.alert_failure_ratio_threshold})."
        ),
        now=now,
    ):
        raised.append(VoiceAlert.Kind.FAILURE_RATIO)
    return AlertReport(backlog=backlog, failure_ratio=ratio.ratio, raised=raised)
