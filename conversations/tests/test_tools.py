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
from conversations.assistant.tools import (
    REGISTRY,
    InvalidArguments,
    ToolContext,
    get_tool,
    schema_mismatches,
    tool_schemas,
    validated_args,
)
from conversations.assistant.tools.registry import tool as tool_decorator
from memory.models import Affinity, Preference
from memory.services import affinity_apply_signal, preferences_update

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
    assert confirmed == {
        "clear_cart",
        "place_order",
        "cancel_order",
        "request_refund",
        "clear_memory",
        "change_order_address",
    }
    assert not any("user" in prop for s in tool_schemas() for prop in s["input_schema"]["properties"])


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_each_tools_json_schema_matches_its_typed_signature(name):
    tool = REGISTRY[name]
    assert schema_mismatches(tool.signature_of, tool.input_schema) == []
    assert tool.description and tool.intent


def test_a_schema_that_drifts_from_its_signature_is_caught():
    def add(ctx, quantity: int, size: str | None = None):  # pragma: no cover - never called
        raise AssertionError

    drifted = {
        "type": "object",
        "properties": {"quantity": {"type": "string"}, "colour": {"type": "string"}},
        "additionalProperties": False,
    }
    problems = " ".join(schema_mismatches(add, drifted))
    assert "colour" in problems and "quantity" in problems and "required" in problems
    with pytest.raises(TypeError):
        tool_decorator("drifting_tool", "never registered", drifted)(add)
    assert "drifting_tool" not in REGISTRY


def test_arguments_are_validated_against_the_schema_before_any_tool_runs():
    add = REGISTRY["add_to_cart"]
    assert validated_args(add, {"ordinal": 2, "size": None}) == {"ordinal": 2}  # null = not given
    for bad in ({"ordinal": "2"}, {"quantity": 0}, {"quantity": 51}, {"user_id": 7}, ["ordinal"]):
        with pytest.raises(InvalidArguments):
            validated_args(add, bad)


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


def test_the_size_searched_with_is_the_size_added_by_position(ctx, hoodie, socks):
    assert get_tool("search_products")(ctx, query="hoodie", size="m").status == "succeeded"
    assert ctx.state.last_shown_options == {"size": "m"}
    result = get_tool("add_to_cart")(ctx, ordinal=1)
    assert result.status == "succeeded" and lines(ctx) == {"H-M": 1}
    assert ctx.state.options_for(socks.pk) == {}  # only the products shown with it
    get_tool("search_products")(ctx, query="hoodie")  # a new search without a size forgets it
    assert ctx.state.last_shown_options == {}


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


def test_change_option_moves_the_named_line_and_says_so(ctx, socks, hoodie):
    ctx.state.last_product_ids = [hoodie.pk]
    get_tool("add_to_cart")(ctx, ordinal=1, size="L")
    get_tool("add_to_cart")(ctx, ordinal=1, size="M", quantity=2)
    get_tool("add_to_cart")(ctx, product="crew socks")
    result = get_tool("change_cart_option")(ctx, category="hoodies", to_size="S")
    assert result.status == "skipped" and "Several items" in result.text  # M and L are both hoodies
    result = get_tool("change_cart_option")(ctx, ordinal=2, to_size="L")
    assert result.status == "succeeded"
    assert (
        result.detail
        == "Changed Cloud Hoodie (size M, black) to Cloud Hoodie (size L, black) (now 3 in your cart)."
    )
    assert lines(ctx) == {"H-L": 3, "S-1": 1}
    assert ctx.state.last_cart_line_id == CartLine.objects.get(variant__sku="H-L").pk
    result = get_tool("change_cart_option")(ctx, to_size="XL")  # "it": the line just changed
    assert result.status == "failed" and "sold out" in result.detail
    assert get_tool("change_cart_option")(ctx, to_size="L").status == "skipped"
    assert lines(ctx) == {"H-L": 3, "S-1": 1}


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


# --- memory tools (the memory app's services, with the session's own user) ------------------------------


@pytest.fixture
def member() -> ToolContext:
    user = UserFactory()
    return ToolContext(
        shopper=Shopper(user=user, session=ShopperSession.objects.create(channel="web", user=user)),
        state=State(),
    )


@pytest.fixture
def store(db):
    from memory.tests.factories import make_store

    return make_store()


def stored(ctx: ToolContext) -> dict[str, object]:
    return dict(Preference.objects.filter(user=ctx.shopper.user).values_list("key", "value"))


def member_lines(ctx: ToolContext) -> dict[str, int]:
    return dict(CartLine.objects.filter(cart__user=ctx.shopper.user).values_list("variant__sku", "quantity"))


def test_save_preference_stores_the_shoppers_rows_as_said_in_chat_and_merges_lists(member, store):
    preferences_update(user=member.shopper.user, changes={"brands": ["Aerolite"]})
    result = get_tool("save_preference")(member, changes={"sizes": {"tops": "m"}, "brands": ["stride"]})
    assert result.status == "succeeded"
    assert "size M in tops" in result.text and "Stride" in result.text
    assert [link.url for link in result.links] == ["/account/memory/"]
    assert stored(member) == {"sizes.tops": "M", "brands": ["Aerolite", "Stride"]}
    assert Preference.objects.get(user=member.shopper.user, key="sizes.tops").source == Preference.Source.CHAT


def test_save_preference_refuses_an_unknown_value_naming_it_with_a_suggestion_and_stores_nothing(
    member, store
):
    result = get_tool("save_preference")(member, changes={"sizes": {"tops": "M"}, "brands": ["Strdie"]})
    assert result.status == "failed"
    assert "Strdie" in result.text and "Stride" in result.text  # the value and the "did you mean"
    assert "haven't saved anything" in result.text
    placed = get_tool("save_preference")(member, changes={"unplaced": ["Aerolyte"]})
    assert placed.status == "failed" and "Aerolite" in placed.text
    assert stored(member) == {}


def test_a_word_the_nlu_could_not_place_is_placed_by_the_catalog_with_its_polarity(member, store):
    assert get_tool("save_preference")(member, changes={"unplaced": ["Urban Thread"]}).status == "succeeded"
    get_tool("save_preference")(member, changes={"unplacedDisliked": ["Denimworks"]})
    assert stored(member) == {"brands": ["Urban Thread"], "dislikedBrands": ["Denimworks"]}


def test_a_word_naming_one_product_is_a_reaction_to_it_and_stores_nothing(member, ctx, store):
    # "I love the alpha hoodie": "alpha" is no brand, style or colour, but it names a product
    result = get_tool("save_preference")(member, changes={"unplaced": ["alpha"], "categories": ["hoodies"]})
    assert result.status == "skipped"
    assert (
        result.text.startswith("Glad you like the Alpha Hoodie!")
        and '"remember I like Aerolite"' in result.text
    )
    assert member.state.last_product_ids == [store.hoodie.pk]  # "add it" now means the hoodie
    disliked = get_tool("save_preference")(member, changes={"unplacedDisliked": ["road runner"]})
    assert disliked.status == "skipped" and disliked.text.startswith("Fair enough.")
    assert stored(member) == {}
    # a guest gets the same reaction, without the offer to remember
    guest = get_tool("save_preference")(ctx, changes={"unplaced": ["wool"]})
    assert guest.text.startswith("Glad you like the Wool Socks!") and "remember" not in guest.text
    # a word that names no product is still refused with the catalog's message
    assert get_tool("save_preference")(member, changes={"unplaced": ["plaid"]}).status == "failed"
    assert not Preference.objects.exists()


def test_guests_memory_tools_store_nothing_and_offer_a_sign_in_link(ctx, store):
    for name, args in (
        ("save_preference", {"changes": {"sizes": {"tops": "M"}}}),
        ("show_memory", {}),
        ("forget_preference", {"preference_key": "sizes"}),
        ("clear_memory", {}),
    ):
        result = get_tool(name)(ctx, **args)
        assert result.status == "skipped", name
        assert result.links[0].url.startswith("/account/login/"), name
    assert get_tool("clear_memory").prepare(ctx).status == "skipped"  # no question to a guest
    assert not Preference.objects.exists()


def test_show_memory_lists_stated_preferences_and_inferred_interests_with_the_memory_page(member, store):
    user = member.shopper.user
    preferences_update(user=user, changes={"sizes": {"shoes": "10.5"}, "dislikedColors": ["neon yellow"]})
    affinity_apply_signal(user_id=user.pk, product_ids=[store.jeans.pk], signal="purchase", event_key="o-1")
    result = get_tool("show_memory")(member)
    assert result.status == "succeeded"
    assert "shoes 10.5" in result.text and "neon yellow" in result.text
    assert "from what you looked at and bought" in result.text and "Classic Jeans" in result.text
    assert "ask me to forget" in result.text and result.links[0].url == "/account/memory/"
    only_sizes = get_tool("show_memory")(member, preference_key="sizes")
    assert "shoes 10.5" in only_sizes.text and "neon" not in only_sizes.text


def test_forget_preference_removes_one_value_or_one_size_kind_and_keeps_the_rest(member, store):
    user = member.shopper.user
    preferences_update(
        user=user, changes={"brands": ["Stride", "Aerolite"], "sizes": {"tops": "M", "shoes": "10.5"}}
    )
    assert (
        get_tool("forget_preference")(member, preference_key="brands", value="stride").status == "succeeded"
    )
    get_tool("forget_preference")(member, preference_key="sizes", size_kind="shoes")
    assert stored(member) == {"brands": ["Aerolite"], "sizes.tops": "M"}
    never = get_tool("forget_preference")(member, value="Nike")
    assert "didn't have" in never.text and stored(member) == {"brands": ["Aerolite"], "sizes.tops": "M"}
    assert get_tool("forget_preference")(member).status == "skipped"  # nothing named: nothing forgotten


def test_clear_memory_asks_first_and_only_running_it_deletes_preferences_and_interests(member, store):
    user = member.shopper.user
    preferences_update(user=user, changes={"brands": ["Stride"]})
    affinity_apply_signal(user_id=user.pk, product_ids=[store.jeans.pk], signal="purchase", event_key="o-1")
    preview = get_tool("clear_memory").prepare(member)
    assert "(yes / no)" in preview.question and preview.args == {"scope": "all"}
    assert Preference.objects.filter(user=user).exists() and Affinity.objects.filter(user=user).exists()
    assert get_tool("clear_memory")(member, **preview.args).status == "succeeded"
    assert not Preference.objects.filter(user=user).exists()
    assert not Affinity.objects.filter(user=user).exists()


def test_recommend_leads_with_what_the_shopper_likes_and_says_why(member, store):
    preferences_update(user=member.shopper.user, changes={"styles": ["denim"]})
    result = get_tool("recommend")(member)
    assert result.status == "succeeded"
    assert result.products[0]["name"] == "Classic Jeans"
    assert "Classic Jeans by Denimworks (because you like denim)" in result.text
    assert member.state.last_product_ids[0] == store.jeans.pk  # "add the first one" works next


def test_recommend_sinks_a_disliked_colour(member, store):
    plain = [p["name"] for p in get_tool("recommend")(member).products]
    assert "Neon Tee" in plain[:-1]
    preferences_update(user=member.shopper.user, changes={"dislikedColors": ["neon yellow"]})
    names = [p["name"] for p in get_tool("recommend")(member).products]
    assert "Neon Tee" not in names[:-1]  # last of the five shown, or below them


def test_recommend_without_memory_gives_the_plain_picks_and_says_how_to_get_your_own(ctx, member, store):
    guest = get_tool("recommend")(ctx)
    assert guest.status == "succeeded" and guest.products
    assert "sign in" in guest.text and "because" not in guest.text
    plain = get_tool("recommend")(member)
    assert [p["name"] for p in plain.products] == [p["name"] for p in guest.products]
    assert "tell me what you like" in plain.text


def test_a_remembered_size_is_used_for_the_add_and_said(member, hoodie):
    preferences_update(user=member.shopper.user, changes={"sizes": {"tops": "M"}})
    member.state.last_product_ids = [hoodie.pk]
    result = get_tool("add_to_cart")(member, ordinal=1)
    assert result.status == "succeeded"
    assert "I picked size M, as you prefer." in result.text
    assert member_lines(member) == {"H-M": 1}


def test_a_remembered_size_that_is_sold_out_is_said_and_the_size_asked(member, hoodie):
    preferences_update(user=member.shopper.user, changes={"sizes": {"tops": "XL"}})
    member.state.last_product_ids = [hoodie.pk]
    result = get_tool("add_to_cart")(member, ordinal=1)
    assert result.status == "skipped"
    assert "size XL" in result.text and "sold out" in result.text and "S, M, L" in result.text
    assert member.state.pending_clarification["slot"] == "size"
    assert member_lines(member) == {}


def test_a_remembered_size_the_product_is_not_made_in_is_said_and_the_size_asked(member, hoodie):
    preferences_update(user=member.shopper.user, changes={"sizes": {"tops": "XS"}})
    member.state.last_product_ids = [hoodie.pk]
    result = get_tool("add_to_cart")(member, ordinal=1)
    assert result.status == "skipped" and "XS" in result.text and "S, M, L" in result.text
    assert member_lines(member) == {}


def test_a_size_for_another_kind_is_never_used_and_a_size_said_beats_memory(member, hoodie):
    preferences_update(user=member.shopper.user, changes={"sizes": {"shoes": "10", "bottoms": "32"}})
    member.state.last_product_ids = [hoodie.pk]
    assert get_tool("add_to_cart")(member, ordinal=1).status == "skipped"  # asked, not guessed
    preferences_update(user=member.shopper.user, changes={"sizes": {"tops": "M"}})
    result = get_tool("add_to_cart")(member, ordinal=1, size="L")
    assert result.status == "succeeded" and "as you prefer" not in result.text
    assert member_lines(member) == {"H-L": 1}


def test_a_disliked_style_or_category_is_said_not_kept_and_the_rest_is_saved(member, store):
    alone = get_tool("save_preference")(member, changes={"dislikedCategories": ["hoodies"]})
    assert alone.status == "skipped" and "not hoodies" in alone.text
    assert stored(member) == {}
    mixed = get_tool("save_preference")(member, changes={"brands": ["Stride"], "dislikedStyles": ["casual"]})
    assert mixed.status == "succeeded" and "not casual" in mixed.text
    assert stored(member) == {"brands": ["Stride"]}
