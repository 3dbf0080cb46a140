"""Staff answer tickets in the admin; the chat panel's body is served to every page."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client

from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import PAGE_SESSION_KEY, Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations.models import Message, StorePolicy, SupportTicket
from conversations.services import conversation_for_shopper, message_record, ticket_open

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client() -> Client:
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_staff_reply_from_the_admin_reaches_the_ticket_and_the_shoppers_chat(staff_client):
    shopper = UserFactory()
    ticket = ticket_open(user=shopper, subject="Damaged", message="Torn box", channel="web")
    url = f"/admin/conversations/supportticket/{ticket.pk}/change/"
    assert staff_client.get(url).status_code == 200
    response = staff_client.post(
        url,
        {
            "status": "open",
            "reply": "We are sending a new one.",
            "messages-TOTAL_FORMS": "0",
            "messages-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    ticket.refresh_from_db()
    assert ticket.status == "pending"
    assert ticket.messages.filter(author_role="staff", body="We are sending a new one.").exists()
    assert Message.objects.filter(conversation__user=shopper, role="staff").exists()


def test_closing_from_the_admin_sets_closed_at(staff_client):
    ticket = ticket_open(user=UserFactory(), subject="Done", message="Thanks", channel="web")
    url = f"/admin/conversations/supportticket/{ticket.pk}/change/"
    response = staff_client.post(
        url, {"status": "closed", "reply": "", "messages-TOTAL_FORMS": "0", "messages-INITIAL_FORMS": "0"}
    )
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.CLOSED and ticket.closed_at is not None


def test_admin_lists_open_conversations_and_policies(staff_client):
    conversation = conversation_for_shopper(shopper=Shopper(user=UserFactory(), session=None))
    message_record(conversation=conversation, role="user", content="<script>x</script>", channel="web")
    StorePolicy.objects.create(title="Shipping", topic="shipping", keywords="shipping", answer="Flat fee")
    assert staff_client.get("/admin/conversations/supportticket/").status_code == 200
    page = staff_client.get(f"/admin/conversations/conversation/{conversation.pk}/change/")
    assert page.status_code == 200
    assert b"<script>x</script>" not in page.content
    assert staff_client.get("/admin/conversations/storepolicy/").status_code == 200


def test_chat_panel_starts_a_guest_session_and_connects_with_it():
    client = Client()
    response = client.get("/chat/panel/")
    assert response.status_code == 200
    key = client.session[PAGE_SESSION_KEY]
    assert ShopperSession.objects.get(key=key).user is None
    html = response.content.decode()
    assert f'ws-connect="/ws/chat/?sessionId={key}&amp;channel=web"' in html
    assert 'hx-ext="ws,chat"' in html and "ws-send" in html
    # the same session the next time: one session id names the cart and the conversation
    assert f"sessionId={key}" in client.get("/chat/panel/").content.decode()


def test_chat_panel_shows_the_conversation_history_escaped():
    client = Client()
    client.get("/chat/panel/")
    session = ShopperSession.objects.get(key=client.session[PAGE_SESSION_KEY])
    conversation = conversation_for_shopper(shopper=Shopper(user=None, session=session))
    message_record(
        conversation=conversation, role="user", content="<img src=x onerror=alert(1)>", channel="web"
    )
    html = client.get("/chat/panel/?channel=kiosk").content.decode()
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<img src=x" not in html
    assert "channel=kiosk" in html


def test_chat_panel_include_loads_the_body_and_the_script():
    html = render_to_string("conversations/chat_panel.html", {"chat_channel": "kiosk"})
    assert 'hx-get="/chat/panel/?channel=kiosk"' in html
    assert "js/chat.js" in html and "css/chat.css" in html


def test_chat_panel_offers_a_handoff_code_that_the_button_fetches():
    html = render_to_string("conversations/chat_panel.html", {})
    assert 'hx-post="/chat/handoff/"' in html and "Continue on your phone" in html
    client = Client()
    client.get("/")
    response = client.post("/chat/handoff/", HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    assert b'class="handoff-code"' in response.content


def test_product_cards_in_a_reply_add_an_in_stock_variant_to_the_cart():
    import re
    from decimal import Decimal

    from carts.models import CartLine
    from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
    from conversations.assistant.pipeline import respond_turn

    category = CategoryFactory(name="Hoodies", slug="hoodies")
    hoodie = ProductFactory(name="Cloud Hoodie", brand="Thread", category=category, tags=["hoodie"])
    sold_out = VariantFactory(product=hoodie, size="S", color="grey", price=Decimal("59.00"), stock=0)
    medium = VariantFactory(product=hoodie, size="M", color="grey", price=Decimal("59.00"), stock=4)
    client = Client()
    client.get("/chat/panel/")  # the page session the chat panel uses
    shopper = Shopper(user=None, session=ShopperSession.objects.get(key=client.session[PAGE_SESSION_KEY]))

    html = respond_turn(shopper=shopper, text="show me hoodies", channel="web").html

    assert 'hx-post="/cart/add/"' in html
    offered = re.findall(r'<option value="(\d+)"', html)
    assert str(medium.pk) in offered and str(sold_out.pk) not in offered
    response = client.post("/cart/add/", {"variant_id": medium.pk, "quantity": 1}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and b"Added 1 to your cart." in response.content
    assert CartLine.objects.get(cart__session=shopper.session).variant_id == medium.pk
