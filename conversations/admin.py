"""Back office for support tickets (staff answer here), conversations (read-only) and store policies."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from commerce.accounts.shoppers import signed_in_user
from commerce.audit.admin_actions import AuditedActionsMixin
from conversations.models import Conversation, Message, StorePolicy, SupportTicket, TicketMessage
from conversations.services import staff_reply, ticket_close


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


class TicketMessageInline(ReadOnlyInline):
    model = TicketMessage
    fields = ("created_at", "author_role", "author", "body")
    readonly_fields = fields


class SupportTicketForm(forms.ModelForm):
    reply = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Your answer to the shopper. Saving sends it to their open chat right away "
        "(and it stays in their chat history).",
    )

    class Meta:
        model = SupportTicket
        fields = ("status", "reply")


@admin.register(SupportTicket)
class SupportTicketAdmin(AuditedActionsMixin, admin.ModelAdmin):
    form = SupportTicketForm
    list_display = ("id", "subject", "user", "status", "order_number", "channel", "created_at", "updated_at")
    list_filter = ("status", "channel")
    search_fields = ("subject", "user__email", "order_number")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "subject",
        "order_number",
        "channel",
        "transcript",
        "created_at",
        "updated_at",
        "closed_at",
    )
    fields = (
        "user",
        "subject",
        "status",
        "order_number",
        "channel",
        "created_at",
        "updated_at",
        "closed_at",
        "transcript",
        "reply",
    )
    inlines = [TicketMessageInline]
    actions = ["close_tickets"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tickets are opened by shoppers (chat or API)

    def save_model(
        self, request: HttpRequest, obj: SupportTicket, form: SupportTicketForm, change: bool
    ) -> None:
        if "status" in form.changed_data and obj.status == SupportTicket.Status.CLOSED:
            obj.status = SupportTicket.objects.get(pk=obj.pk).status
            ticket_close(ticket=obj)
        else:
            obj.save()
        body = form.cleaned_data.get("reply", "").strip()
        if body:
            staff_reply(ticket=obj, staff_user=signed_in_user(request), body=body)
            self.message_user(request, "Your reply was sent to the shopper's chat.", messages.SUCCESS)

    @admin.action(description="Close selected tickets", permissions=["change"])
    def close_tickets(self, request: HttpRequest, queryset: QuerySet[SupportTicket]) -> None:
        for ticket in queryset:
            ticket_close(ticket=ticket)
        self.message_user(request, f"Closed {queryset.count()} ticket(s).", messages.SUCCESS)


class MessageInline(ReadOnlyInline):
    model = Message
    fields = ("created_at", "role", "channel", "content", "intent", "confidence", "actions")
    readonly_fields = fields


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "session", "created_at", "updated_at")
    search_fields = ("user__email", "session__key")
    list_select_related = ("user", "session")
    readonly_fields = ("user", "session", "created_at", "updated_at")
    inlines = [MessageInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(StorePolicy)
class StorePolicyAdmin(admin.ModelAdmin):
    list_display = ("title", "topic", "is_active", "updated_at")
    list_filter = ("topic", "is_active")
    search_fields = ("title", "keywords", "answer")
    list_editable = ("is_active",)
