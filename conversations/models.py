"""Conversations with the assistant, its dialogue state, support tickets and the store policies it quotes."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone


class Channel(models.TextChoices):
    WEB = "web", "Web"
    KIOSK = "kiosk", "Kiosk"
    MOBILE = "mobile", "Mobile"
    API = "api", "API"
    VOICE = "voice", "Voice"


class Conversation(models.Model):
    """One per signed-in user (the same on every channel) or per guest shopper session.

    Exactly one of ``user`` and ``session`` is set: when a guest signs in, their conversation's
    messages move into the account's conversation (``services.conversation_join_account``).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversation",
    )
    session = models.OneToOneField(
        "accounts.ShopperSession",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="conversation",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Interaction summaries (memory app): messages up to this time are summarized; ``unsummarized``
    # counts the messages since, kept by the same update that stamps ``updated_at``.
    summarized_until = models.DateTimeField(null=True, blank=True)
    unsummarized = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-updated_at"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(user__isnull=False) & Q(session__isnull=True))
                | (Q(user__isnull=True) & Q(session__isnull=False)),
                name="conversation_user_xor_session",
            ),
        ]

    def __str__(self) -> str:
        owner = self.user if self.user_id else f"guest {self.session_id}"
        return f"Conversation {self.pk} ({owner})"

    @property
    def group_name(self) -> str:
        """The channel-layer group every open socket of this conversation listens to."""
        if self.user_id:
            return user_group(self.user_id)
        if self.session is None:  # the model's constraint: a user's or a session's
            raise ValueError(f"Conversation {self.pk} has neither a user nor a session.")
        return session_group(self.session.key)


def user_group(user_id: int) -> str:
    return f"user.{user_id}"


def session_group(session_key: str) -> str:
    return f"session.{session_key}"


class Message(models.Model):
    class Role(models.TextChoices):
        USER = "user", "Shopper"
        ASSISTANT = "assistant", "Assistant"
        STAFF = "staff", "Staff"
        SYSTEM = "system", "System"

    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    intent = models.CharField(max_length=40, blank=True)
    confidence = models.FloatField(null=True, blank=True)
    actions = models.JSONField(default=list, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    # When the message arrived (a shopper's) or was made (a reply): set as the row is made, which for a
    # shopper's chat message is before its turn runs, though it is written at the turn's end.
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    # How an assistant message was planned (empty on other roles): which planner chose the actions,
    # the model asked and what it cost, why the model was skipped, the plan that ran, and in shadow
    # mode the model's plan stored beside the rules' one without being run.
    planner = models.CharField(max_length=8, blank=True)
    llm_model = models.CharField(max_length=100, blank=True)
    llm_latency_ms = models.FloatField(null=True, blank=True)
    llm_tokens_in = models.PositiveIntegerField(default=0)
    llm_tokens_out = models.PositiveIntegerField(default=0)
    llm_cost = models.DecimalField(max_digits=12, decimal_places=6, null=True, blank=True)
    fallback_reason = models.CharField(max_length=40, blank=True)
    plan = models.JSONField(default=list, blank=True)
    shadow_plan = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["conversation", "-created_at"], name="message_conv_created_idx")]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:60]}"


class DialogueState(models.Model):
    """What the assistant needs to resolve "the second one", "it", "yes" in the next message.

    In the database, so it survives reconnects and every connection of the conversation sees it.
    Cart lines and orders are named by id/number rather than foreign keys: they belong to other
    apps and may be gone by the time the state is read, which the reader must check anyway.
    """

    conversation = models.OneToOneField(
        Conversation, on_delete=models.CASCADE, primary_key=True, related_name="state"
    )
    last_product_ids = models.JSONField(default=list, blank=True)
    last_cart_line_id = models.BigIntegerField(null=True, blank=True)
    last_order_number = models.CharField(max_length=32, blank=True)
    pending_clarification = models.JSONField(null=True, blank=True)
    pending_confirmation = models.JSONField(null=True, blank=True)
    # The size/colour the shopper searched with when ``last_product_ids`` were shown ("running shoes
    # in size 10"): "add the second one" means that size, not a question about it.
    last_shown_options = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"State of conversation {self.conversation_id}"


class HandoffCode(models.Model):
    """A short one-time code that lets another device continue a shopper session's conversation and cart.

    Only a keyed hash of the code is stored (``digest``, unique), so the table never holds a code that
    could be replayed; the code itself is shown once, to the shopper who asked for it.
    """

    digest = models.CharField(max_length=64, unique=True)
    session = models.ForeignKey(
        "accounts.ShopperSession", on_delete=models.CASCADE, related_name="handoff_codes"
    )
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Handoff code for session {self.session_id}"

    def is_used(self) -> bool:
        return self.used_at is not None

    def is_expired(self, *, now=None) -> bool:
        return (now or timezone.now()) >= self.expires_at


class SupportTicket(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "Open (waiting for staff)"
        PENDING = "pending", "Pending (waiting for the shopper)"
        CLOSED = "closed", "Closed"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="support_tickets"
    )
    subject = models.CharField(max_length=200)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    # A number rather than a foreign key: tickets must not depend on the orders app's schema.
    order_number = models.CharField(max_length=32, blank=True)
    channel = models.CharField(max_length=10, choices=Channel.choices, default=Channel.WEB)
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.SET_NULL, related_name="tickets"
    )
    transcript = models.TextField(
        blank=True, help_text="The recent chat messages when the ticket was opened from the assistant."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    closed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "status"], name="ticket_user_status_idx")]

    def __str__(self) -> str:
        return f"#{self.pk} {self.subject}"

    def get_admin_url(self) -> str:
        return reverse("admin:conversations_supportticket_change", args=[self.pk])

    def is_closed(self) -> bool:
        return self.status == self.Status.CLOSED


class TicketMessage(models.Model):
    class Author(models.TextChoices):
        SHOPPER = "shopper", "Shopper"
        STAFF = "staff", "Staff"

    ticket = models.ForeignKey(SupportTicket, on_delete=models.CASCADE, related_name="messages")
    author_role = models.CharField(max_length=10, choices=Author.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["created_at", "id"]

    def __str__(self) -> str:
        return f"{self.author_role}: {self.body[:60]}"


class StorePolicy(models.Model):
    """An answer to a general question (shipping, returns, ...), matched by keywords; staff edit these."""

    class Topic(models.TextChoices):
        SHIPPING = "shipping", "Shipping"
        RETURNS = "returns", "Returns"
        SIZING = "sizing", "Sizing"
        PAYMENT = "payment", "Payment"
        OTHER = "other", "Other"

    title = models.CharField(max_length=120, unique=True)
    topic = models.CharField(max_length=10, choices=Topic.choices, default=Topic.OTHER)
    keywords = models.CharField(
        max_length=500,
        help_text="Comma-separated words or phrases that call for this answer, e.g. "
        "'shipping, delivery, how long'.",
    )
    answer = models.TextField()
    is_active = models.BooleanField(default=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["topic", "title"]
        verbose_name_plural = "store policies"

    def __str__(self) -> str:
        return self.title

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip().lower() for k in self.keywords.split(",") if k.strip()]
