"""The audit trail in the admin: read-only for everyone, superusers included."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from commerce.audit.models import AuditEvent


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "actor_repr", "action", "object_type", "object_id", "client_address")
    list_filter = ("action", "object_type", "actor_repr")
    search_fields = ("object_id", "actor_repr", "action")
    date_hierarchy = "created_at"
    readonly_fields = [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict:
        return {}
