"""Chat pages: the panel's body (loaded by HTMX into every page) and the handoff code pages.

Loading the panel in its own request lets it start the guest's shopper session (and so set the
session cookie) without every page render writing to the database, and it brings the conversation's
recent history, rendered on the server like every later bubble.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import remember_page_session, shopper_from_page
from commerce.errors import DomainError
from commerce.ratelimit import client_address as client_ip  # the address the rate limits count
from conversations import selectors, services
from conversations.assistant.reply import CHAT_LOG_ID
from conversations.services import MAX_MESSAGE_CHARS

PANEL_HISTORY = 30
HANDOFF_TEMPLATE = "conversations/handoff.html"


@require_GET
def chat_panel(request: HttpRequest) -> HttpResponse:
    shopper = shopper_from_page(request, create=True)
    channel = request.GET.get("channel", "web")
    if channel not in ShopperSession.Channel.values:
        channel = "web"
    conversation = selectors.conversation_find(shopper=shopper)
    return render(
        request,
        "conversations/panel_body.html",
        {
            "session_key": shopper.session_key,
            "chat_channel": channel,
            "messages_shown": selectors.history(conversation=conversation, limit=PANEL_HISTORY),
            "chat_log_id": CHAT_LOG_ID,
            "max_chars": MAX_MESSAGE_CHARS,
        },
    )


@require_POST
def handoff_code(request: HttpRequest) -> HttpResponse:
    """HTMX: a new one-time code for this browser's conversation, as the chat's small code box."""
    shopper = shopper_from_page(request, create=True)
    try:
        issued = services.handoff_code_issue(shopper=shopper)
    except DomainError as exc:
        return render(request, f"{HANDOFF_TEMPLATE}#code", {"error": exc.message}, status=exc.status_code)
    return render(
        request,
        f"{HANDOFF_TEMPLATE}#code",
        {
            "code": issued.code,
            "expires_at": issued.expires_at,
            "continue_url": request.build_absolute_uri(reverse("conversations:continue")),
        },
    )


class HandoffForm(forms.Form):
    code = forms.CharField(
        label="Code",
        max_length=20,
        help_text="8 letters and digits, like ABCD-2345.",
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"}
        ),
    )


@require_http_methods(["GET", "POST"])
def handoff_continue(request: HttpRequest) -> HttpResponse:
    """The page where another device enters a code and takes over the conversation and cart."""
    form = HandoffForm(request.POST or None)
    status = 200
    retry_after: int | None = None
    if request.method == "POST" and form.is_valid():
        shopper = shopper_from_page(request)
        try:
            session = services.handoff_redeem(
                code=form.cleaned_data["code"],
                user=shopper.user,
                session=shopper.session,
                client_ip=client_ip(request),
                channel=ShopperSession.Channel.WEB,
            )
        except DomainError as exc:
            form.add_error("code", exc.message)
            status = exc.status_code
            retry_after = getattr(exc, "retry_after", None)
        else:
            remember_page_session(request, session)
            messages.success(
                request, "You are continuing your conversation here: your chat and cart came along."
            )
            return redirect("/")
    elif request.method == "POST":
        status = 400
    response = render(request, HANDOFF_TEMPLATE, {"form": form}, status=status)
    if status == 429 and retry_after:
        response["Retry-After"] = str(retry_after)  # every 429 says when to come back (CONTRACT section 6)
    return response
