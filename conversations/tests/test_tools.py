"""The tool registry and the cart tools, on the real database and the real cart services."""

from __future__ import annotations

from decimal import Decimal

import pytest

from carts.models import CartLine, Discount
from catalog.tests.factories import CategoryFactory, ProductFactory, VariantFactory
from commerce.accounts.models import ShopperSession
from commerce.accounts.shoppers import Shopper
from commerce.accounts.tests.factories import UserFactory
from conversations.assistant.state import State
from conversations.assistant.tools import REGISTRY, ToolContext, get_tool, tool_schemas

pytestmark = pytest.mark.django_db


@pytest.fixture
def ctx() -> ToolContext:
    return ToolContext(
        shopper=Shopper(user=None, session=ShopperSession.objects.create(channel="web")), state=State()
    )


@pytest.fixture
def hoodie():
    product = ProductFactory(name="Cloud Hoodie", category=CategoryFactory(name="Hoodies", slug="hoodies"))
    for size in ("S", "M", "L"):
        VariantFactory(product=product, sku=f"H-{size}", size=size, color="black", stock=5)
    VariantFactory(product=product, sku="H-XL", size="XL", color="black", stock=0)
    return product


@pytest.fixture
def socks():
    product = ProductFactory(name="Crew Socks", category=CategoryFactory(name="Socks", slug="socks"))
    VariantFactory(product=product, sku="S-1", size="M", color="white", stock=3, price=Decimal("10.00"))
    return product


def lines(ctx: ToolContext) -> dict[str, int]:
    return dict(
        CartLine.objects.filter(cart__session=ctx.shopper.session).values_list("variant__sku", "quantity")
    )


def test_every_tool_has_a_json_schema_and_irreversible_ones_need_confirmation():
    names = {s["name"] for s in tool_schemas()}
    assert {"search_products", "add_to_cart", "update_cart_quantity", "adjust_cart_quantity"} <= names
    assert {"remove_from_cart", "clear_cart", "view_cart", "apply_discount", "place_order"} <= names
    assert all(s["input_schema"]["type"] == "object" for s in tool_schemas())
    confirmed = {t.name for t in REGISTRY.values() if t.confirm}
    assert confirmed == {"clear_cart", "place_order", "cancel_order", "request_refund", "clear_memory"}
    assert not any("user" in prop for s in tool_schemas() for prop in s["input_schema"]["properties"])


def test_add_by_ordinal_never_guesses_the_size_it_asks_with_the_in_stock_sizes(ctx, hoodie, socks):
    ctx.state.last_product_ids = [socks.pk, hoodie.pk]
    result = get_tool("add_to_cart")(ctx, ordinal=2)
    assert result.status == "skipped"
    assert "S, M, L" in result.text and "XL" not in result.text
    assert ctx.state.pending_clarification["slot"] == "size"
    assert ctx.state.pending_clarification["args"]["product_id"] == hoodie.pk
    assert lines(ctx) == {}


def test_add_with_the_size_adds_that_variant_and_remembers_the_line(ctx, hoodie):
    ctx.state.last_product_ids = [hoodie.pk]
    result = get_tool("add_to_cart")(ctx, ordinal=1, size="m", quantity=2)
    assert result.status == "succeeded" and result.cart is not None
    assert lines(ctx) == {"H-M": 2}
    assert ctx.state.last_cart_line_id == CartLine.objects.get().pk


def test_sold_out_variant_fails_with_the_services_message(ctx, hoodie):
    ctx.state.last_product_ids = [hoodie.pk]
    result = get_tool("add_to_cart")(ctx, ordinal=1, size="XL")
    assert result.status == "failed"
    assert lines(ctx) == {}


def test_ordinal_beyond_the_results_fails(ctx, socks):
    ctx.state.last_product_ids = [socks.pk]
    assert get_tool("add_to_cart")(ctx, ordinal=3).status == "failed"


def test_add_by_phrase_searches_and_adds_a_single_variant_product(ctx, socks):
    result = get_tool("add_to_cart")(ctx, product="crew socks", category="socks")
    assert result.status == "succeeded"
    assert lines(ctx) == {"S-1": 1}
    assert ctx.state.last_product_ids == [socks.pk]


def test_quantity_tools_act_on_the_last_touched_line_and_respect_stock(ctx, socks, hoodie):
    get_tool("add_to_cart")(ctx, product="crew socks")
    assert get_tool("update_cart_quantity")(ctx, quantity=2).status == "succeeded"
    assert get_tool("adjust_cart_quantity")(ctx, delta=1).status == "succeeded"
    assert lines(ctx) == {"S-1": 3}
    assert get_tool("adjust_cart_quantity")(ctx, delta=1).status == "failed"  # only 3 in stock
    assert get_tool("adjust_cart_quantity")(ctx, delta=-3).status == "succeeded"
    assert lines(ctx) == {}


def test_remove_matches_words_against_the_cart_lines(ctx, socks, hoodie):
    get_tool("add_to_cart")(ctx, product="crew socks")
    ctx.state.last_product_ids = [hoodie.pk]
    get_tool("add_to_cart")(ctx, ordinal=1, size="S")
    assert get_tool("remove_from_cart")(ctx, product="socks").status == "succeeded"
    assert lines(ctx) == {"H-S": 1}
    assert get_tool("remove_from_cart")(ctx, product="jacket").status == "failed"


def test_another_shoppers_cart_is_never_touched(ctx, socks):
    other = ToolContext(shopper=Shopper(user=UserFactory(), session=None), state=State())
    get_tool("add_to_cart")(other, product="crew socks")
    assert get_tool("remove_from_cart")(ctx, product="socks").status == "failed"
    assert get_tool("clear_cart")(ctx).status == "skipped"
    assert CartLine.objects.filter(cart__user=other.shopper.user).count() == 1


def test_discount_applies_and_bad_codes_fail_with_the_reason(ctx, socks):
    Discount.objects.create(code="SAVE10", value=Decimal("10"))
    get_tool("add_to_cart")(ctx, product="crew socks")
    assert get_tool("apply_discount")(ctx, code="save10").status == "succeeded"
    bad = get_tool("apply_discount")(ctx, code="NOPE")
    assert bad.status == "failed" and "NOPE is not a valid discount code" in bad.detail


def test_view_cart_states_lines_and_total(ctx, socks):
    get_tool("add_to_cart")(ctx, product="crew socks", quantity=2)
    result = get_tool("view_cart")(ctx)
    assert "2 x Crew Socks" in result.text and "Total: $" in result.text


def test_guest_checkout_is_explained_with_a_sign_in_link(ctx):
    result = get_tool("place_order").prepare(ctx)
    assert result.status == "skipped"
    assert result.links[0].url == "/account/login/?next=/checkout/"
