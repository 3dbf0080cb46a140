"""Conversation and support services, the sign-in join, store policies and dialogue state."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from commerce.accounts.models import ShopperSession
from commerce.accounts.services import shopper_sign_in
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import PASSWORD, UserFactory
from conversations import selectors
from conversations.assistant import state as dialogue_state
from conversations.errors import EmptyMessage, MessageTooLong, TicketNotFound
from conversations.models import (
    Conversation,
    DialogueState,
    Message,
    StorePolicy,
    SupportTicket,
    TicketMessage,
)
from conversations.services import (
    chat_message_keep,
    chat_message_received,
    chat_turn_recorded,
    conversation_for_shopper,
    message_content_clean,
    message_record,
    staff_reply,
    ticket_add_message,
    ticket_close,
    ticket_open,
)

pytestmark = pytest.mark.django_db


def _guest() -> Shopper:
    return Shopper(user=None, session=ShopperSession.objects.create(channel="web"))


def test_conversation_is_one_per_user_and_one_per_guest_session():
    user = UserFactory()
    a = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    b = conversation_for_shopper(shopper=Shopper(user=user, session=ShopperSession.objects.create(user=user)))
    assert a == b
    guest = _guest()
    assert conversation_for_shopper(shopper=guest) == conversation_for_shopper(shopper=guest)
    assert conversation_for_shopper(shopper=guest) != a


def test_message_content_is_trimmed_and_bounded():
    assert message_content_clean("  hi  ") == "hi"
    with pytest.raises(EmptyMessage):
        message_content_clean(" \n ")
    with pytest.raises(EmptyMessage):
        message_content_clean(None)
    with pytest.raises(MessageTooLong):
        message_content_clean("x" * 4001)


def test_guest_conversation_joins_the_account_on_sign_in_with_its_dialogue_state():
    user = UserFactory()
    account = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    message_record(conversation=account, role="user", content="earlier on my phone", channel="mobile")
    guest = _guest()
    guest_conversation = conversation_for_shopper(shopper=guest)
    chat_turn_recorded(
        conversation=guest_conversation,
        received=chat_message_received(
            conversation=guest_conversation, role="user", content="show me hoodies", channel="web"
        ),
        reply=_reply("Here are 2 hoodies"),
        state=dialogue_state.changes(dialogue_state.State(last_product_ids=[7, 3])),
        state_is_new=True,
    )

    shopper_sign_in(user=user, session=guest.session, channel="web")

    assert not Conversation.objects.filter(pk=guest_conversation.pk).exists()
    contents = [m.content for m in selectors.history(conversation=account)]
    assert contents == ["earlier on my phone", "show me hoodies", "Here are 2 hoodies"]
    assert dialogue_state.load(account).last_product_ids == [7, 3]


def test_guest_conversation_becomes_the_account_conversation_when_there_is_none():
    user = UserFactory()
    guest = _guest()
    conversation = conversation_for_shopper(shopper=guest)
    message_record(conversation=conversation, role="user", content="hello", channel="web")
    shopper_sign_in(user=user, session=guest.session, channel="web")
    conversation.refresh_from_db()
    assert conversation.user == user and conversation.session is None


def test_guest_conversation_joins_the_account_on_api_login():
    user = UserFactory()
    client = APIClient()
    session = client.post("/api/v1/interactions/message", {"content": "hello"}, format="json").json()[
        "sessionId"
    ]
    response = client.post(
        "/api/v1/auth/login",
        {"email": user.email, "password": PASSWORD},
        format="json",
        HTTP_X_SESSION_ID=session,
    )
    assert response.status_code == 200
    assert Conversation.objects.get(user=user).messages.count() == 2
    assert not Conversation.objects.filter(session__key=session).exists()


def test_ticket_opened_from_chat_attaches_the_recent_conversation():
    user = UserFactory()
    conversation = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    message_record(conversation=conversation, role="user", content="my parcel arrived damaged", channel="web")
    ticket = ticket_open(
        user=user,
        subject="Damaged parcel",
        message="my parcel arrived damaged",
        channel="web",
        order_number=" ab12cd ",
        conversation=conversation,
    )
    assert ticket.order_number == "AB12CD"
    assert "user: my parcel arrived damaged" in ticket.transcript
    assert list(ticket.messages.values_list("author_role", "body")) == [
        ("shopper", "my parcel arrived damaged")
    ]


def test_ticket_never_attaches_someone_elses_conversation():
    user, other = UserFactory(), UserFactory()
    theirs = conversation_for_shopper(shopper=Shopper(user=other, session=None))
    message_record(conversation=theirs, role="user", content="their secret", channel="web")
    ticket = ticket_open(user=user, subject="Hi", message="Hello", channel="web", conversation=theirs)
    assert ticket.conversation is None and ticket.transcript == ""


def test_staff_reply_records_the_answer_in_the_ticket_and_the_shoppers_chat():
    user, staff = UserFactory(), UserFactory(is_staff=True)
    ticket = ticket_open(user=user, subject="Late", message="Where is it?", channel="web")
    staff_reply(ticket=ticket, staff_user=staff, body="It ships tomorrow.")
    ticket.refresh_from_db()
    assert ticket.status == SupportTicket.Status.PENDING
    assert ticket.messages.last().author_role == TicketMessage.Author.STAFF
    staff_message = Message.objects.get(conversation__user=user, role="staff")
    assert "It ships tomorrow." in staff_message.content
    with pytest.raises(EmptyMessage):
        staff_reply(ticket=ticket, staff_user=staff, body="  ")


def test_shopper_message_reopens_and_close_is_idempotent():
    user = UserFactory()
    ticket = ticket_open(user=user, subject="Late", message="Where is it?", channel="web")
    ticket_close(ticket=ticket)
    closed_at = ticket.closed_at
    ticket_close(ticket=ticket)
    assert ticket.closed_at == closed_at and ticket.status == "closed"
    ticket_add_message(ticket=ticket, user=user, body="Still not here")
    ticket.refresh_from_db()
    assert ticket.status == "open" and ticket.closed_at is None


def test_ticket_get_for_user_hides_other_users_tickets():
    user, other = UserFactory(), UserFactory()
    ticket = ticket_open(user=other, subject="Mine", message="x", channel="web")
    with pytest.raises(TicketNotFound):
        selectors.ticket_get_for_user(user=user, ticket_id=ticket.pk)
    assert selectors.ticket_get_for_user(user=other, ticket_id=f"#{ticket.pk}") == ticket


def test_load_store_policies_seeds_once_and_keeps_staff_edits():
    call_command("load_store_policies")
    count = StorePolicy.objects.count()
    assert count >= 4
    assert set(StorePolicy.objects.values_list("topic", flat=True)) >= {
        "shipping",
        "returns",
        "sizing",
        "payment",
    }
    shipping = StorePolicy.objects.get(title="Shipping times and cost")
    assert "$5.99" in shipping.answer and "3-5 business days" in shipping.answer
    shipping.answer = "Edited by staff"
    shipping.save()
    call_command("load_store_policies")
    assert StorePolicy.objects.count() == count
    assert StorePolicy.objects.get(pk=shipping.pk).answer == "Edited by staff"
    call_command("load_store_policies", "--reset")
    assert StorePolicy.objects.get(pk=shipping.pk).answer != "Edited by staff"


def test_policy_answer_matches_keywords_on_whole_words_and_prefers_longer_phrases():
    call_command("load_store_policies")
    assert selectors.policy_answer(text="How long does shipping take?").topic == "shipping"
    assert selectors.policy_answer(text="Can I RETURN these?").topic == "returns"
    assert selectors.policy_answer(text="what size should I get").topic == "sizing"
    assert selectors.policy_answer(text="tell me a joke") is None
    assert selectors.policy_answer(text="a friendship bracelet") is None  # "ship" inside a word is no match
    assert selectors.policy_answer(text="anything", topic="payment").topic == "payment"


def test_inactive_policies_are_never_quoted():
    StorePolicy.objects.create(title="Gift wrap", keywords="gift wrap, gift", answer="Yes!", is_active=False)
    assert selectors.policy_answer(text="do you gift wrap?") is None


def test_dialogue_state_round_trips_through_the_database():
    conversation = conversation_for_shopper(shopper=_guest())
    assert dialogue_state.load(conversation) == dialogue_state.State()
    assert dialogue_state.changes(dialogue_state.load(conversation)) is not None  # never stored
    state = dialogue_state.State(
        last_product_ids=[4, 9, 2],
        last_cart_line_id=11,
        last_order_number="4F7K2Q",
        pending_clarification={"slot": "size", "productId": 9},
        pending_confirmation={"tool": "order_cancel", "args": {"order": "4F7K2Q"}},
    )
    _state_stored(conversation, dialogue_state.changes(state), is_new=True)
    assert DialogueState.objects.count() == 1
    loaded = dialogue_state.load(Conversation.objects.get(pk=conversation.pk))
    assert loaded == state
    assert dialogue_state.changes(loaded) is None  # read back unchanged: nothing to write
    assert loaded.product_at(2) == 9 and loaded.product_at(-1) == 2 and loaded.product_at(4) is None


def _reply(content: str) -> dict:
    return {
        "role": Message.Role.ASSISTANT,
        "content": content,
        "channel": "web",
        "intent": "product_search",
        "confidence": 0.9,
        "actions": [{"tool": "search_products", "status": "succeeded"}],
        "planning": {
            "planner": "rules",
            "llm_cost": Decimal("0.000120"),
            "plan": [{"tool": "x"}],
            "llm_model": None,
        },
    }


@pytest.mark.parametrize("state_before", [None, [1]], ids=["no state yet", "state stored"])
def test_a_turns_end_records_the_reply_its_state_and_counts_both_messages(
    state_before, django_capture_on_commit_callbacks
):
    conversation = conversation_for_shopper(shopper=_guest())
    if state_before is not None:
        _state_stored(conversation, {"last_product_ids": state_before}, is_new=True)
    pushed = []
    before = Conversation.objects.get(pk=conversation.pk)
    received = chat_message_received(
        conversation=before,
        role="user",
        content="running shoes",
        channel="web",
        origin="socket-1",
        push=lambda group, event: pushed.append((group, event)),
    )
    arrived = received.message.created_at

    with django_capture_on_commit_callbacks(execute=True):
        reply = chat_turn_recorded(
            conversation=before,
            received=received,
            reply=_reply("Here are 2 for running shoes"),
            state={"last_product_ids": [5, 6], "last_shown_options": {"size": "10"}},
            state_is_new=state_before is None,
        )

    stored = Message.objects.get(pk=reply.pk)
    assert (stored.role, stored.content, stored.intent, stored.channel) == (
        "assistant",
        "Here are 2 for running shoes",
        "product_search",
        "web",
    )
    assert stored.actions == [{"tool": "search_products", "status": "succeeded"}]
    assert (stored.planner, stored.llm_cost, stored.plan, stored.llm_model) == (
        "rules",
        Decimal("0.000120"),
        [{"tool": "x"}],
        "",
    )
    assert stored.created_at.tzinfo is not None and not reply._state.adding
    assert reply.conversation is before and received.message.conversation is before  # no read for them
    shopper_message = Message.objects.get(pk=received.message.pk)
    assert (shopper_message.role, shopper_message.content) == ("user", "running shoes")
    assert shopper_message.created_at == arrived < stored.created_at  # the time it arrived, not written
    assert shopper_message.pk < reply.pk
    assert [m.role for m in selectors.history(conversation=conversation)] == ["user", "assistant"]
    state = DialogueState.objects.get(conversation=conversation)
    assert (state.last_product_ids, state.last_shown_options) == ([5, 6], {"size": "10"})
    after = Conversation.objects.get(pk=conversation.pk)
    assert after.unsummarized == before.unsummarized + 2
    assert after.updated_at > before.updated_at
    assert pushed == [
        (
            conversation.group_name,
            {
                "type": "chat.message",
                "role": "user",
                "content": "running shoes",
                "channel": "web",
                "origin": "socket-1",
            },
        ),
        (
            conversation.group_name,
            {
                "type": "chat.message",
                "role": "assistant",
                "content": "Here are 2 for running shoes",
                "channel": "web",
                "origin": "socket-1",
            },
        ),
    ]


def test_a_turns_end_is_one_statement_on_postgresql():
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    conversation = conversation_for_shopper(shopper=_guest())
    received = chat_message_received(conversation=conversation, role="user", content="hi", channel="web")
    with CaptureQueriesContext(connection) as statements:
        chat_turn_recorded(
            conversation=conversation,
            received=received,
            reply=_reply("hi"),
            state={"last_product_ids": [1]},
            state_is_new=True,
        )
    writes = [q["sql"].split()[0] for q in statements if q["sql"].split()[0] in {"WITH", "INSERT", "UPDATE"}]
    # elsewhere (SQLite): the ORM's four writes in one transaction
    expected = ["WITH"] if connection.vendor == "postgresql" else ["INSERT", "INSERT", "INSERT", "UPDATE"]
    assert writes == expected
    assert [m.role for m in Message.objects.filter(conversation=conversation)] == ["user", "assistant"]
    assert DialogueState.objects.filter(conversation=conversation).exists()


def test_a_failed_turn_keeps_and_counts_the_shoppers_message_and_writes_nothing_else():
    conversation = conversation_for_shopper(shopper=_guest())
    received = chat_message_received(conversation=conversation, role="user", content="hi", channel="web")

    assert chat_turn_recorded(conversation=conversation, received=received) is None

    assert Conversation.objects.get(pk=conversation.pk).unsummarized == conversation.unsummarized + 1
    assert [(m.pk, m.content) for m in Message.objects.all()] == [(received.message.pk, "hi")]
    assert not DialogueState.objects.exists()


def test_a_message_kept_before_the_model_is_not_written_again_at_the_turns_end(
    django_capture_on_commit_callbacks,
):
    conversation = conversation_for_shopper(shopper=_guest())
    pushed = []
    received = chat_message_received(
        conversation=conversation,
        role="user",
        content="something only the model would follow",
        channel="web",
        push=lambda group, event: pushed.append(event["role"]),
    )
    with django_capture_on_commit_callbacks(execute=True):
        chat_message_keep(received)
    assert received.stored and pushed == ["user"]  # stored, and the other devices see it, at once

    with django_capture_on_commit_callbacks(execute=True):
        chat_message_keep(received)  # kept twice: still one row
        reply = chat_turn_recorded(conversation=conversation, received=received, reply=_reply("Sure."))

    assert [m.role for m in Message.objects.filter(conversation=conversation)] == ["user", "assistant"]
    assert Message.objects.get(pk=received.message.pk).pk < reply.pk
    assert pushed == ["user", "assistant"]
    assert Conversation.objects.get(pk=conversation.pk).unsummarized == conversation.unsummarized + 2


def test_a_tickets_transcript_ends_with_the_chat_message_not_yet_written():
    from conversations.services import TRANSCRIPT_MESSAGES, ticket_open

    user = UserFactory()
    conversation = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    for n in range(TRANSCRIPT_MESSAGES):
        message_record(conversation=conversation, role="user", content=f"earlier {n}", channel="web")
    received = chat_message_received(
        conversation=conversation, role="user", content="my parcel never came", channel="web"
    )

    ticket = ticket_open(
        user=user,
        subject="Parcel",
        message="my parcel never came",
        channel="web",
        conversation=conversation,
        pending=received.message,
    )

    lines = ticket.transcript.splitlines()
    assert len(lines) == TRANSCRIPT_MESSAGES  # the oldest gives way
    assert lines[0].endswith("user: earlier 1") and lines[-1].endswith("user: my parcel never came")
    assert not received.stored  # quoted, not written: the turn's end writes it


def _state_stored(conversation: Conversation, fields: dict, *, is_new: bool) -> None:
    from conversations.services import dialogue_state_save

    dialogue_state_save(conversation=conversation, is_new=is_new, **fields)


# --- interaction summaries (memory) ----------------------------------------------------------------


@pytest.fixture
def trail_runner():
    from decimal import Decimal

    from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory

    category = CategoryFactory(name="Running Shoes", slug="running-shoes")
    product = ProductFactory(name="Trail Runner 2", brand="Stride", category=category, tags=["running"])
    VariantFactory(product=product, size="10", price=Decimal("129.99"), stock=8)
    return product


@pytest.fixture
def summaries(settings):
    """Memory's summary task runs in-process, as in the embedded run; the summary rows."""
    from memory.models import InteractionSummary

    settings.CELERY_TASK_ALWAYS_EAGER = True
    return InteractionSummary.objects


def _committed(at):
    """At time ``at``, with after-commit callbacks (the summary task) run as each block ends."""
    import contextlib

    import time_machine
    from django.test import TestCase

    stack = contextlib.ExitStack()
    stack.enter_context(time_machine.travel(at, tick=False))
    stack.enter_context(TestCase.captureOnCommitCallbacks(execute=True))
    return stack


def _say(shopper: Shopper, text: str, at) -> dict:
    from conversations.assistant.pipeline import respond

    with _committed(at):
        return respond(shopper=shopper, text=text, channel="web")


def test_a_signed_in_visit_is_summarized_once_when_the_next_visit_starts(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    member = Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user))
    start = timezone.now()
    _say(member, "hello", start)
    _say(member, "show me running shoes", start + timedelta(minutes=1))
    _say(member, "add the first one", start + timedelta(minutes=2))
    assert not summaries.exists()  # the visit is still going on

    _say(member, "what's in my cart?", start + timedelta(minutes=40))
    _say(member, "thanks, bye", start + timedelta(minutes=41))

    summary = summaries.get(user=user)
    assert summary.conversation_label == "web chat" and summary.channel == "web"
    assert "running shoes" in summary.text and "Trail Runner 2" in summary.text
    assert "cart?" not in summary.text  # the new visit is summarized when it is over
    conversation = Conversation.objects.get(user=user)
    assert conversation.unsummarized == 4


def test_a_guest_visit_is_never_summarized(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    guest = _guest()
    start = timezone.now()
    _say(guest, "show me running shoes", start)
    _say(guest, "show me running shoes", start + timedelta(hours=2))
    assert not summaries.exists()


def test_a_long_visit_is_summarized_every_twenty_messages(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.services import SUMMARY_MAX_MESSAGES

    user = UserFactory()
    member = Shopper(user=user, session=None)
    start = timezone.now()
    for n in range(SUMMARY_MAX_MESSAGES // 2):
        _say(member, "show me running shoes", start + timedelta(minutes=n))
    assert not summaries.exists()
    _say(member, "hello", start + timedelta(minutes=11))
    _say(member, "hello", start + timedelta(minutes=12))
    assert summaries.filter(user=user).count() == 1


def test_the_guest_part_of_a_joined_conversation_is_summarized_for_the_account(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    guest = _guest()
    start = timezone.now()
    _say(guest, "show me running shoes", start)
    user = UserFactory()
    shopper_sign_in(user=user, session=guest.session, channel="web")
    _say(Shopper(user=user, session=guest.session), "hello again", start + timedelta(hours=1))
    assert "running shoes" in summaries.get(user=user).text


def test_two_turns_racing_schedule_one_summary(summaries):
    from datetime import timedelta

    from django.utils import timezone

    user = UserFactory()
    conversation = conversation_for_shopper(shopper=Shopper(user=user, session=None))
    start = timezone.now()
    with _committed(start):
        message_record(conversation=conversation, role="user", content="show me denim", channel="web")
    with _committed(start + timedelta(hours=1)):
        first, second = (Conversation.objects.get(pk=conversation.pk) for _ in range(2))
        message_record(conversation=first, role="user", content="hello", channel="web")
        message_record(conversation=second, role="user", content="hello", channel="kiosk")
    assert summaries.filter(user=user).count() == 1
    assert summaries.get(user=user).text == 'Asked: "show me denim"'


def test_summary_text_keeps_what_was_done_and_drops_what_came_before_a_request_to_forget():
    from conversations.services import conversation_summary_text

    def msg(role, content, intent, actions=()):
        return Message(role=role, content=content, intent=intent, actions=list(actions))

    done = {"type": "product_search", "status": "succeeded", "detail": "Found 2 products for denim."}
    failed = {"type": "add_to_cart", "status": "failed", "detail": "Out of stock."}
    assert conversation_summary_text(messages=[msg("user", "hi", "greeting")]) == ""
    assert (
        conversation_summary_text(
            messages=[
                msg("user", "denim please", "product_search"),
                msg("assistant", "Here", "product_search", [done, failed]),
                msg("user", "denim please", "product_search"),
                msg("assistant", "Here", "product_search", [done]),
            ]
        )
        == "Found 2 products for denim."
    )
    forgotten = conversation_summary_text(
        messages=[
            msg("user", "denim please", "product_search"),
            msg("assistant", "Here", "product_search", [done]),
            msg("user", "forget everything about me", "clear_memory"),
            msg("user", "neon socks?", "product_search"),
        ]
    )
    assert forgotten == 'Asked: "neon socks?"'


def test_skipping_summaries_after_a_history_clear_leaves_the_visit_unsummarized(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    from conversations.services import conversation_summary_skip

    user = UserFactory()
    member = Shopper(user=user, session=None)
    start = timezone.now()
    _say(member, "show me running shoes", start)
    with _committed(start + timedelta(minutes=1)):
        assert conversation_summary_skip(user=user) == 1
    _say(member, "hello", start + timedelta(hours=1))
    assert not summaries.filter(user=user).exists()


@pytest.mark.parametrize("forget", ["history_clear", "memory_clear"])
def test_forgetting_history_in_memory_leaves_the_visit_going_on_unsummarized(trail_runner, summaries, forget):
    """memory's "forget my history" reaches conversations through its ``history_forgotten`` signal."""
    from datetime import timedelta

    from django.utils import timezone

    from memory import services as memory_services

    user = UserFactory()
    member = Shopper(user=user, session=None)
    start = timezone.now()
    _say(member, "show me running shoes", start)
    with _committed(start + timedelta(minutes=1)):
        getattr(memory_services, forget)(user=user)
    _say(member, "hello", start + timedelta(hours=1))
    assert not summaries.filter(user=user).exists()


def test_a_visit_nobody_returns_from_is_summarized_by_the_idle_sweep_once(trail_runner, summaries):
    from datetime import timedelta

    from django.utils import timezone

    from commerce.celery import app
    from conversations.tasks import summarize_idle_task

    user = UserFactory()
    member = Shopper(user=user, session=None)
    guest = Shopper(user=None, session=ShopperSession.objects.create(channel="web"))
    start = timezone.now()
    _say(member, "show me running shoes", start)
    _say(guest, "show me running shoes", start)

    with _committed(start + timedelta(minutes=10)):
        assert summarize_idle_task.apply().get() == 0  # the visit may still go on
    with _committed(start + timedelta(minutes=45)):
        assert summarize_idle_task.apply().get() == 1
    with _committed(start + timedelta(minutes=60)):
        assert summarize_idle_task.apply().get() == 0  # already summarized
    assert list(summaries.values_list("user", flat=True)) == [user.pk]
    assert "conversations-summarize-idle" in app.conf.beat_schedule


def test_a_lone_surrogate_in_a_message_is_replaced_so_it_can_be_stored():
    from conversations.services import message_content_clean

    assert message_content_clean("hi \ud800 there") == "hi \ufffd there"
    assert message_content_clean("😀 fine") == "😀 fine"
