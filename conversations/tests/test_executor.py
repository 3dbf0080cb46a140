"""The executor: confirmation before confirm=True tools, clarifications, partial and atomic runs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carts.models import CartLine
from catalog.tests.factories import ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import Shopper
from conversations.assistant import executor
from conversations.assistant.nlu import understand
from conversations.assistant.planner import ATOMIC, Plan, Step, plan
from conversations.assistant.state import State
from conversations.assistant.tools import ToolContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx() -> ToolContext:
    return ToolContext(
        shopper=Shopper(user=None, session=ShopperSession.objects.create(channel="web")), state=State()
    )


@pytest.fixture
def catalog():
    socks = ProductFactory(name="Crew Socks")
    VariantFactory(product=socks, sku="S-1", stock=10, price=Decimal("10.00"))
    cap = ProductFactory(name="Trucker Cap")
    VariantFactory(product=cap, sku="C-1", stock=0)
    shoe = ProductFactory(name="Trail Runner")
    for size in ("9", "10"):
        VariantFactory(product=shoe, sku=f"T-{size}", size=size, stock=4)
    return {"socks": socks, "cap": cap, "shoe": shoe}


def skus(ctx: ToolContext) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__session=ctx.shopper.session).values_list("variant__sku", "quantity")
    )


def adds(*products: str) -> Plan:
    return Plan(steps=[Step("add_multiple_to_cart", "add_to_cart", {"product": p}) for p in products])


def test_clear_cart_waits_for_yes(ctx, catalog):
    executor.execute(adds("crew socks"), ctx)
    out = executor.execute(plan(understand("empty my cart"), ctx.state), ctx)
    assert out.actions[0]["status"] == "needs_confirmation"
    assert skus(ctx) == {"S-1": 1} and ctx.state.pending_confirmation["tool"] == "clear_cart"
    done = executor.confirm_pending(ctx)
    assert done.actions == [{"type": "clear_cart", "status": "succeeded", "detail": "Emptied the cart."}]
    assert skus(ctx) == {} and ctx.state.pending_confirmation is None


def test_no_drops_the_pending_step(ctx, catalog):
    executor.execute(adds("crew socks"), ctx)
    executor.execute(plan(understand("empty my cart"), ctx.state), ctx)
    out = executor.deny_pending(ctx)
    assert out.actions[0]["status"] == "skipped"
    assert skus(ctx) == {"S-1": 1} and ctx.state.pending_confirmation is None


def test_partial_mode_keeps_what_worked(ctx, catalog):
    out = executor.execute(adds("crew socks", "trucker cap"), ctx)
    assert [a["status"] for a in out.actions] == ["succeeded", "failed"]
    assert skus(ctx) == {"S-1": 1}


def test_atomic_mode_rolls_everything_back_when_one_step_fails(ctx, catalog):
    p = adds("crew socks", "trucker cap")
    p.mode = ATOMIC
    before = list(ctx.state.last_product_ids)
    out = executor.execute(p, ctx)
    assert [a["status"] for a in out.actions] == ["failed", "failed"]
    assert all("Rolled back" in a["detail"] for a in out.actions)
    assert skus(ctx) == {} and ctx.state.last_product_ids == before


def test_size_clarification_is_completed_by_the_next_answer(ctx, catalog):
    out = executor.execute(adds("trail runner"), ctx)
    assert out.actions[0]["status"] == "skipped" and ctx.state.pending_clarification["slot"] == "size"
    done = executor.complete_clarification(ctx, {"quantity": 10})  # a bare "10" reads as a number
    assert done.actions[0]["status"] == "succeeded"
    assert skus(ctx) == {"T-10": 1} and ctx.state.pending_clarification is None


def test_an_answer_without_the_missing_value_completes_nothing(ctx, catalog):
    executor.execute(adds("trail runner"), ctx)
    assert executor.complete_clarification(ctx, {"color": "red"}) is None
    assert skus(ctx) == {}


# --- checkout and orders by chat (through the whole pipeline) ----------------------------------------

ADDRESS = {
    "name": "Ada Shopper",
    "line1": "500 Main St",
    "city": "Austin",
    "state": "TX",
    "postalCode": "78701",
    "country": "US",
}


@pytest.fixture
def member_with_an_order(catalog):
    """A member who has ordered once (so an address and a payment method are on file)."""
    from carts.services import cart_add_item
    from commerce.accounts.tests.factories import UserFactory
    from orders.models import Order
    from orders.services import order_place

    user = UserFactory()
    shopper = Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user))
    cart_add_item(shopper=shopper, variant_id=catalog["socks"].variants.get().pk, quantity=1)
    order, _ = order_place(
        user=user, shipping_address=ADDRESS, payment_method={"type": "card", "token": "pm_test_visa"}
    )
    # a number the NLU reads as an id (it needs a digit: all-letter numbers are a known NLU gap)
    Order.objects.filter(pk=order.pk).update(number="4F7K2Q")
    order.refresh_from_db()
    return shopper, order


def say(shopper, *texts):
    from conversations.assistant.pipeline import respond

    return [respond(shopper=shopper, text=t, channel="web") for t in texts][-1]


def test_checkout_by_chat_states_the_total_asks_and_places_the_order_on_yes(member_with_an_order):
    from orders.models import Order

    shopper, first = member_with_an_order
    say(shopper, "add 2 crew socks")
    asked = say(shopper, "checkout")
    assert asked["actions"][0]["status"] == "needs_confirmation" and "$" in asked["reply"]
    assert Order.objects.count() == 1
    placed = say(shopper, "yes")
    assert placed["actions"][0]["status"] == "succeeded"
    newest = Order.objects.exclude(pk=first.pk).get()
    assert newest.lines.get().quantity == 2
    assert skus_of(shopper) == {}


def skus_of(shopper) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart__user=shopper.user).values_list("variant__sku", "quantity"))


def test_checkout_with_nothing_on_file_links_to_the_checkout_page(catalog):
    from commerce.accounts.tests.factories import UserFactory

    user = UserFactory()
    shopper = Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user))
    reply = say(shopper, "add crew socks", "checkout")
    assert reply["actions"][0]["status"] == "skipped" and "/checkout/" in reply["reply"]


def test_where_is_my_order_then_cancel_it_with_confirmation(member_with_an_order):
    shopper, order = member_with_an_order
    status = say(shopper, "where is my order")
    assert order.number in status["reply"]
    asked = say(shopper, "cancel it")
    assert asked["actions"][0]["status"] == "needs_confirmation"
    say(shopper, "yes")
    order.refresh_from_db()
    assert order.status == "cancelled"


def test_someone_elses_order_is_not_found_and_untouched(member_with_an_order, catalog):
    from commerce.accounts.tests.factories import UserFactory

    _owner, order = member_with_an_order
    stranger = UserFactory()
    shopper = Shopper(user=stranger, session=ShopperSession.objects.create(channel="web", user=stranger))
    reply = say(shopper, f"cancel order {order.number}")
    assert reply["actions"][0]["status"] == "failed" and "No order" in reply["reply"]
    say(shopper, "yes")
    order.refresh_from_db()
    assert order.status == "paid"


def test_change_the_address_of_the_last_order_waits_for_a_yes(member_with_an_order):
    shopper, order = member_with_an_order
    asked = say(shopper, "where is my order", "ship it to 1 Elm St, Dallas, TX 75001")
    assert asked["actions"][0]["status"] == "needs_confirmation" and "1 Elm St" in asked["reply"]
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "500 Main St"  # nothing changes before the shopper's yes
    say(shopper, "yes")
    order.refresh_from_db()
    assert order.shipping_address["line1"] == "1 Elm St" and order.shipping_address["name"] == "Ada Shopper"


def test_refund_of_an_undelivered_order_is_refused(member_with_an_order):
    shopper, order = member_with_an_order
    reply = say(shopper, f"refund order {order.number}")
    assert reply["actions"][0]["status"] == "failed"
