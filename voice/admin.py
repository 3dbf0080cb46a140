"""Back office for voice recovery: jobs (retry now, cancel, and a "scan and process now" button),
attempts, decisions, suppressions, alerts, the run-time settings, and a stats page linked from the jobs
list and the admin index."""

from __future__ import annotations

from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from commerce.audit.admin_actions import AuditedActionsMixin
from commerce.audit.services import audit_record
from commerce.errors import DomainError
from voice import services
from voice.models import (
    CallAttempt,
    CallbackReceipt,
    GuardrailDecision,
    RecoveryCode,
    RecoveryJob,
    Suppression,
    VoiceAlert,
    VoiceSettings,
)
from voice.tasks import recovery_scan_task
from voice.tasks import send as send_task


class CallAttemptInline(admin.TabularInline):
    model = CallAttempt
    extra = 0
    can_delete = False
    fields = readonly_fields = (
        "number",
        "provider",
        "provider_call_id",
        "status",
        "outcome",
        "error",
        "cost",
        "created_at",
        "finished_at",
    )

    def has_add_permission(self, request, obj=None) -> bool:
        return False


class GuardrailDecisionInline(admin.TabularInline):
    model = GuardrailDecision
    extra = 0
    can_delete = False
    fields = readonly_fields = ("created_at", "rule", "action", "detail", "deferred_until")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


@admin.register(RecoveryJob)
class RecoveryJobAdmin(AuditedActionsMixin, admin.ModelAdmin):
    list_display = [
        "id",
        "user",
        "state",
        "attempts",
        "next_attempt_at",
        "cart_total",
        "outcome",
        "recovered",
        "recovered_amount",
        "created_at",
    ]
    list_filter = ["state", "recovered", ("created_at", admin.DateFieldListFilter), "cancel_reason"]
    search_fields = ["user__email", "recovery_key", "recovered_order_number"]
    date_hierarchy = "created_at"
    raw_id_fields = ["user", "cart"]
    readonly_fields = [f.name for f in RecoveryJob._meta.fields]
    inlines = [CallAttemptInline, GuardrailDecisionInline]
    actions = ["retry_now", "cancel_jobs"]
    change_list_template = "admin/voice/recoveryjob/change_list.html"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # jobs come from the scan only

    def get_urls(self):
        urls = [
            path("stats/", self.admin_site.admin_view(self.stats_view), name="voice_recoveryjob_stats"),
            path(
                "process-now/",
                self.admin_site.admin_view(require_POST(self.process_now_view)),
                name="voice_recoveryjob_process_now",
            ),
        ]
        return urls + super().get_urls()

    def changelist_view(self, request: HttpRequest, extra_context=None):
        extra_context = {**(extra_context or {}), "can_process_now": self.has_place_call_permission(request)}
        return super().changelist_view(request, extra_context)

    def process_now_view(self, request: HttpRequest) -> HttpResponseRedirect:
        """The list's "Scan and process now" button: what ``voice_recovery_scan`` does, no selection.

        The same task beat runs, forced past the scheduler switch (running it by hand is the point, as
        with the command); the kill switch still holds inside the services.
        """
        if not self.has_place_call_permission(request):
            raise PermissionDenied
        audit_record(action="admin.voice_process_now", actor=request.user, object_type="voice.recoveryjob")
        if settings.CELERY_TASK_ALWAYS_EAGER:
            attempts_before = CallAttempt.objects.count()
            result = recovery_scan_task.apply(kwargs={"force": True}).get()
            started = CallAttempt.objects.count() - attempts_before
            self.message_user(
                request,
                f"Scanned: {result['created']} new job(s), {result['cancelled']} cancelled; "
                f"due jobs processed: {started} call(s) started.",
            )
        else:
            send_task(recovery_scan_task, (True,))
            self.message_user(request, "Scan and processing queued for the worker.")
        return HttpResponseRedirect(reverse("admin:voice_recoveryjob_changelist"))

    def stats_view(self, request: HttpRequest):
        from voice.views import stats_page

        context = {
            **self.admin_site.each_context(request),
            "title": "Voice recovery stats",
            "opts": self.model._meta,
        }
        return stats_page(request, context)

    def has_place_call_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("voice.place_call")

    @admin.action(
        description="Retry now (pending: due now; dead letter / failed: one more attempt)",
        permissions=["place_call"],
    )
    def retry_now(self, request: HttpRequest, queryset: QuerySet[RecoveryJob]) -> None:
        done, refused = 0, []
        for job in queryset:
            try:
                services.job_requeue(job_id=job.pk)
                done += 1
            except DomainError as exc:
                refused.append(f"#{job.pk}: {exc.message}")
        if done:
            self.message_user(request, f"{done} job(s) will be tried at the next processing run.")
        for line in refused:
            self.message_user(request, line, level=messages.WARNING)

    @admin.action(description="Cancel", permissions=["change"])
    def cancel_jobs(self, request: HttpRequest, queryset: QuerySet[RecoveryJob]) -> None:
        done, refused = 0, 0
        for job in queryset:
            try:
                services.job_cancel(job_id=job.pk, reason="staff", detail=f"Cancelled by {request.user}.")
                done += 1
            except DomainError:
                refused += 1
        self.message_user(request, f"{done} job(s) cancelled.")
        if refused:
            self.message_user(request, f"{refused} job(s) were already finished.", level=messages.WARNING)


@admin.register(CallAttempt)
class CallAttemptAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "job",
        "number",
        "provider",
        "status",
        "outcome",
        "cost",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status", "provider", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["provider_call_id", "job__user__email"]
    readonly_fields = [f.name for f in CallAttempt._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(GuardrailDecision)
class GuardrailDecisionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "job", "rule", "action", "deferred_until", "detail"]
    list_filter = ["rule", "action"]
    readonly_fields = [f.name for f in GuardrailDecision._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin):
    list_display = ["user", "reason", "note", "created_by", "created_at"]
    list_filter = ["reason"]
    search_fields = ["user__email"]
    raw_id_fields = ["user"]
    readonly_fields = ["created_by", "created_at"]

    def save_model(self, request, obj: Suppression, form, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        # Through the service: suppressing someone cancels their pending jobs.
        saved = services.suppression_add(
            user_id=obj.user_id, reason=obj.reason, created_by=request.user, note=obj.note
        )
        obj.pk = saved.pk


@admin.register(VoiceAlert)
class VoiceAlertAdmin(admin.ModelAdmin):
    list_display = ["created_at", "kind", "value", "threshold", "message", "resolved_at"]
    list_filter = ["kind", ("resolved_at", admin.EmptyFieldListFilter)]
    readonly_fields = [f.name for f in VoiceAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(VoiceSettings)
class VoiceSettingsAdmin(admin.ModelAdmin):
    """One row; empty fields keep the environment's value (shown in each field's help)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return not VoiceSettings.objects.exists()

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context=None):
        row, _ = VoiceSettings.objects.get_or_create(pk=VoiceSettings.SINGLETON_PK)
        return HttpResponseRedirect(reverse("admin:voice_voicesettings_change", args=[row.pk]))

    def get_form(self, request, obj=None, change=False, **kwargs):
        from voice.conf import env_values
        from voice.selectors import _OVERRIDES

        form = super().get_form(request, obj, change=change, **kwargs)
        env = env_values()
        for field_name, env_name in _OVERRIDES.items():
            if field_name in form.base_fields:
                value = env[env_name]
                shown = (str(value)[:80] + "...") if len(str(value)) > 80 else str(value)
                form.base_fields[field_name].help_text = f"Empty: {env_name} = {shown}"
        return form

    def save_model(self, request, obj: VoiceSettings, form, change: bool) -> None:
        services.voice_settings_save(row=obj, actor=request.user)


@admin.register(CallbackReceipt)
class CallbackReceiptAdmin(admin.ModelAdmin):
    list_display = ["received_at", "provider_call_id", "status"]
    search_fields = ["provider_call_id"]
    readonly_fields = [f.name for f in CallbackReceipt._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(RecoveryCode)
class RecoveryCodeAdmin(admin.ModelAdmin):
    list_display = ["code", "user", "job", "expires_at", "used_at"]
    search_fields = ["code", "user__email"]
    readonly_fields = [f.name for f in RecoveryCode._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False
