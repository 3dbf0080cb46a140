"""The outbox in the admin: what could not reach Celery, and a button to send it again."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from commerce.outbox.models import OutboxMessage
from commerce.outbox.services import outbox_retry


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    list_display = ("created_at", "task_name", "status", "attempts", "next_attempt_at", "sent_at")
    list_filter = ("status", "task_name")
    search_fields = ("task_name", "last_error", "task_id")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in OutboxMessage._meta.fields]
    actions = ["send_again"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: OutboxMessage | None = None) -> bool:
        return False

    def has_resend_permission(self, request: HttpRequest) -> bool:
        # Rows are never edited by hand; sending one again is the one change staff may make.
        return request.user.has_perm("outbox.change_outboxmessage")

    @admin.action(description="Send the selected failed tasks again", permissions=["resend"])
    def send_again(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        count = outbox_retry(message_ids=list(queryset.values_list("pk", flat=True)))
        self.message_user(request, f"{count} task(s) queued for the next sweep.", messages.SUCCESS)
