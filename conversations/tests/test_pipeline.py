"""The assistant pipeline: what each served intent does, what is stored, and what it refuses to pretend."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from carts.models import Cart, CartLine
from catalog.selectors import catalog_corrector
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.tests.factories import UserFactory
from conversations.assistant import state as dialogue_state
from conversations.assistant.pipeline import respond, respond_turn
from conversations.errors import MessageTooLong
from conversations.models import Conversation, Message, SupportTicket
from conversations.services import ticket_open
from memory.models import Preference

pytestmark = pytest.mark.django_db


def test_greeting_is_answered_and_both_messages_are_stored_with_intent_and_channel(member):
    reply = respond(shopper=member, text="hello", channel="kiosk")
    assert reply["intent"] == "greeting"
    assert "Ada" in reply["reply"]
    assert reply["suggestions"]
    stored = list(Message.objects.order_by("id").values_list("role", "intent", "channel"))
    assert stored == [("user", "greeting", "kiosk"), ("assistant", "greeting", "kiosk")]


def test_help_says_what_the_assistant_can_do(guest):
    reply = respond(shopper=guest, text="what can you do?", channel="web")
    assert reply["intent"] == "help"
    for can in ("find products", "change your cart", "check out", "refund", "remember your sizes", "forget"):
        assert can in reply["reply"], can
    assert reply["actions"] == [
        {"type": "help", "status": "succeeded", "detail": "Listed what the assistant can do."}
    ]


def test_general_question_is_answered_from_the_store_policy(guest):
    call_command("load_store_policies")
    reply = respond(shopper=guest, text="How long does shipping take?", channel="web")
    assert reply["intent"] == "general_question"
    assert "$5.99" in reply["reply"] and "3-5 business days" in reply["reply"]
    assert reply["actions"][0]["status"] == "succeeded"
    assert "Shipping times and cost" in reply["actions"][0]["detail"]


def test_unanswerable_question_gets_an_honest_no_with_suggestions(guest):
    reply = respond(shopper=guest, text="what is the meaning of life", channel="web")
    assert reply["reply"].startswith("I can't help with that, but I can")
    # the store's policies were looked up (a read, through the store_policy tool) and nothing matched
    assert reply["actions"] == [
        {"type": "general_question", "status": "skipped", "detail": "No store policy answers this."}
    ]
    assert len(reply["suggestions"]) >= 2


def test_product_search_returns_in_stock_matches_and_remembers_them(guest, running_shoes):
    turn = respond_turn(shopper=guest, text="show me running shoes under $150 in size 10", channel="web")
    reply = turn.reply
    assert reply["intent"] == "product_search"
    names = [p["name"] for p in reply["products"]]
    assert set(names) == {"Trail Runner 2", "Road Racer"}  # not over budget, not sold out
    assert set(reply["products"][0]) >= {"id", "name", "price", "variants", "currency", "imageUrl"}
    assert reply["actions"][0]["status"] == "succeeded"
    conversation = Conversation.objects.get(session=guest.session)
    ids = [int(p["id"]) for p in reply["products"]]
    assert dialogue_state.load(conversation).last_product_ids == ids
    assert "Trail Runner 2" in turn.html and f"/products/{ids[0]}/" in turn.html


def test_product_search_with_no_match_says_so(guest, running_shoes):
    reply = respond(shopper=guest, text="show me running shoes under $20", channel="web")
    assert reply["products"] == []
    assert "couldn't find" in reply["reply"]


def test_product_names_with_markup_are_escaped_in_the_html(guest):
    product = ProductFactory(name="<b>Bold</b> Hoodie", tags=["hoodie"])
    VariantFactory(product=product, stock=3)
    turn = respond_turn(shopper=guest, text="show me hoodies", channel="web")
    assert turn.reply["products"][0]["name"] == "<b>Bold</b> Hoodie"
    assert "&lt;b&gt;Bold&lt;/b&gt; Hoodie" in turn.html and "<b>Bold</b>" not in turn.html


@pytest.mark.parametrize(
    ("text", "intent", "status"),
    [
        ("checkout", "checkout", "skipped"),  # empty cart: nothing to check out
        ("where is my order", "order_status", "failed"),  # no orders yet
        ("cancel order 4F7K2Q", "cancel_order", "failed"),  # not one of the member's orders
    ],
)
def test_checkout_and_order_requests_act_on_the_members_own_data_only(member, text, intent, status):
    reply = respond(shopper=member, text=text, channel="web")
    assert reply["intent"] == intent
    assert [(a["type"], a["status"]) for a in reply["actions"]] == [(intent, status)]
    assert not Cart.objects.exists()


def test_guest_asking_to_check_out_is_also_pointed_to_sign_in(guest):
    turn = respond_turn(shopper=guest, text="checkout", channel="web")
    assert "/account/login/?next=/checkout/" in turn.html
    assert turn.reply["actions"][0]["status"] == "skipped"


def test_guest_escalation_is_told_to_sign_in_and_opens_nothing(guest):
    turn = respond_turn(shopper=guest, text="I want to talk to a human", channel="web")
    assert turn.reply["intent"] == "support_escalation"
    assert turn.reply["actions"][0]["status"] == "skipped"
    assert "signed in" in turn.reply["reply"]
    assert "/account/login/" in turn.html
    assert not SupportTicket.objects.exists()


def test_escalation_opens_a_ticket_with_the_conversation_then_status_and_close(member):
    respond(shopper=member, text="hello", channel="web")
    reply = respond(shopper=member, text="my parcel arrived damaged", channel="web")
    ticket = SupportTicket.objects.get(user=member.user)
    assert reply["actions"] == [
        {"type": "support_escalation", "status": "succeeded", "detail": f"Opened ticket #{ticket.pk}."}
    ]
    assert ticket.conversation == Conversation.objects.get(user=member.user)
    assert "user: hello" in ticket.transcript and "user: my parcel arrived damaged" in ticket.transcript

    again = respond(shopper=member, text="I want to talk to a human", channel="web")
    assert SupportTicket.objects.count() == 1
    assert f"#{ticket.pk}" in again["reply"] and ticket.messages.count() == 2

    status = respond(shopper=member, text="what's the status of my ticket?", channel="web")
    assert status["intent"] == "support_status"
    assert f"Ticket #{ticket.pk}" in status["reply"] and "open" in status["reply"]

    closed = respond(shopper=member, text="close my ticket", channel="web")
    assert closed["actions"][0]["status"] == "succeeded"
    assert SupportTicket.objects.get(pk=ticket.pk).status == "closed"
    nothing = respond(shopper=member, text="close my ticket", channel="web")
    assert nothing["actions"][0]["status"] == "skipped"


def test_a_ticket_of_another_user_named_in_chat_is_not_found_and_untouched(member):
    other = UserFactory()
    theirs = ticket_open(user=other, subject="Theirs", message="x", channel="web")
    reply = respond(shopper=member, text=f"close ticket {theirs.pk}", channel="web")
    assert reply["intent"] == "support_close"
    assert reply["actions"][0]["status"] == "failed"
    assert SupportTicket.objects.get(pk=theirs.pk).status == "open"
    status = respond(shopper=member, text=f"what's the status of ticket {theirs.pk}?", channel="web")
    assert "Theirs" not in status["reply"]


def test_overlong_text_is_refused_before_anything_is_stored(guest):
    with pytest.raises(MessageTooLong):
        respond(shopper=guest, text="x" * 100_000, channel="web")
    assert not Message.objects.exists()


def test_one_turn_costs_a_bounded_number_of_queries(member, running_shoes, django_assert_max_num_queries):
    respond(shopper=member, text="hello", channel="web")
    catalog_corrector()  # the catalog's vocabulary is built once per catalog version, not per message
    with django_assert_max_num_queries(20):
        respond(shopper=member, text="show me running shoes under $150 in size 10", channel="web")


# --- memory by chat (a signed-in shopper on the kiosk; socket-free) --------------------------------------


def test_a_signed_in_shoppers_memory_turns_end_in_the_tables_and_the_cart(member, running_shoes):
    user = member.user
    said = respond(shopper=member, text="I wear 9 in shoes and I like Stride", channel="kiosk")
    assert said["intent"] == "save_preference" and said["actions"][0]["status"] == "succeeded"
    assert dict(Preference.objects.filter(user=user).values_list("key", "value")) == {
        "sizes.shoes": "9",
        "brands": ["Stride"],
    }
    picks = respond(shopper=member, text="what would you recommend for me?", channel="kiosk")
    assert picks["products"][0]["name"] == "Trail Runner 2" and "because you like Stride" in picks["reply"]
    added = respond(shopper=member, text="add the first one", channel="kiosk")
    assert "I picked size 9, as you prefer." in added["reply"]
    assert list(CartLine.objects.filter(cart__user=user).values_list("variant__size", "quantity")) == [
        ("9", 1)
    ]
    respond(shopper=member, text="forget my shoe size", channel="kiosk")
    assert dict(Preference.objects.filter(user=user).values_list("key", "value")) == {"brands": ["Stride"]}
    assert respond(shopper=member, text="clear my memory", channel="kiosk")["actions"][0]["status"] == (
        "needs_confirmation"
    )
    respond(shopper=member, text="yes", channel="kiosk")
    assert not Preference.objects.filter(user=user).exists()


def test_liking_the_product_on_screen_stores_nothing_and_says_how_to_buy_or_remember_it(
    member, running_shoes
):
    respond(shopper=member, text="show me running shoes", channel="web")
    reply = respond(shopper=member, text="I like the second one", channel="web")
    assert reply["actions"] == [] and "add it to my cart" in reply["reply"]
    assert "remember" in reply["reply"]
    assert not Preference.objects.filter(user=member.user).exists()
