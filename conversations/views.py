"""The chat panel's body, loaded by HTMX into every page (``templates/conversations/chat_panel.html``).

Loading it in its own request lets it start the guest's shopper session (and so set the session
cookie) without every page render writing to the database, and it brings the conversation's recent
history, rendered on the server like every later bubble.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import shopper_from_page
from conversations import selectors
from conversations.assistant.reply import CHAT_LOG_ID
from conversations.services import MAX_MESSAGE_CHARS

PANEL_HISTORY = 30


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
