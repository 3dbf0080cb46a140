"""Staff see (read-only) and may delete what the store remembers about a shopper; they cannot edit it:
memory is the shopper's to change."""

from __future__ import annotations

from django.contrib import admin
from django.http import HttpRequest

from memory.models import Affinity, InteractionSummary, Preference


class _ReadOnly(admin.ModelAdmin):
    list_select_related = ["user"]
    search_fields = ["user__email"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(Preference)
class PreferenceAdmin(_ReadOnly):
    list_display = ["user", "key", "value", "source", "updated_at"]
    list_filter = ["key", "source"]


@admin.register(Affinity)
class AffinityAdmin(_ReadOnly):
    list_display = ["user", "kind", "label", "stored_score", "weight_now", "last_event_at"]
    list_filter = ["kind"]
    search_fields = ["user__email", "label"]
    ordering = ["user_id", "-last_event_at"]

    @admin.display(description="score at last event")
    def stored_score(self, obj: Affinity) -> str:
        return f"{obj.score:.2f}"

    @admin.display(description="weight now (decayed)")
    def weight_now(self, obj: Affinity) -> str:
        return f"{obj.decayed_score():.2f}"


@admin.register(InteractionSummary)
class InteractionSummaryAdmin(_ReadOnly):
    list_display = ["user", "created_at", "channel", "conversation_label", "text"]
    list_filter = ["channel"]
    search_fields = ["user__email", "text"]
    date_hierarchy = "created_at"
