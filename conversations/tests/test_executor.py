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
