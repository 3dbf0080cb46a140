import pytest
from django.contrib.auth.models import AnonymousUser

from catalog.selectors import product_get
from memory.selectors import color_for_product, memory_export, memory_snapshot, size_for_product
from memory.services import affinity_apply_signal, interaction_summary_record, preferences_update

pytestmark = pytest.mark.django_db


def test_size_fill_in_picks_the_right_kind(user, store):
    preferences_update(user=user, changes={"sizes": {"tops": "M", "shoes": "10.5", "bottoms": "32"}})
    assert size_for_product(user=user, product=product_get(product_id=store.hoodie.pk)) == (
        "M",
        "I picked size M, as you prefer.",
    )
    assert size_for_product(user=user, product=product_get(product_id=store.shoe.pk))[0] == "10.5"
    assert size_for_product(user=user, product=product_get(product_id=store.jeans.pk))[0] == "32"
    # Socks take no kind of size the shopper told us.
    assert size_for_product(user=user, product=product_get(product_id=store.socks.pk)) == (None, "")


def test_size_fill_in_says_when_the_product_lacks_the_size_or_it_is_sold_out(user, store):
    preferences_update(user=user, changes={"sizes": {"tops": "XL", "shoes": "11"}})
    size, reason = size_for_product(user=user, product=product_get(product_id=store.hoodie.pk))
    assert size is None and "does not come in your usual tops size XL" in reason
    size, reason = size_for_product(user=user, product=product_get(product_id=store.shoe.pk))
    assert size == "11" and "sold out" in reason


def test_size_fill_in_needs_a_remembered_size_and_a_signed_in_shopper(user, store):
    hoodie = product_get(product_id=store.hoodie.pk)
    assert size_for_product(user=user, product=hoodie) == (None, "")
    preferences_update(user=user, changes={"sizes": {"tops": "M"}})
    assert size_for_product(user=AnonymousUser(), product=hoodie) == (None, "")


def test_colour_fill_in_picks_a_liked_colour_in_stock(user, store):
    preferences_update(user=user, changes={"colors": ["navy", "black"]})
    hoodie = product_get(product_id=store.hoodie.pk)
    # Navy is sold out: black it is.
    assert color_for_product(user=user, product=hoodie) == ("black", "I picked black, a colour you like.")
    assert color_for_product(user=user, product=hoodie, size="L") == (None, "")


def test_snapshot_has_the_contract_shape(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"], "priceMax": "99.5"})
    interaction_summary_record(
        user=user, conversation_label="Chat", text="Asked for running shoes", channel="voice"
    )
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="purchase", event_key="o")
    snapshot = memory_snapshot(user=user)
    assert set(snapshot) == {"preferences", "history", "affinities"}
    assert snapshot["preferences"] == {
        "sizes": {"tops": None, "bottoms": None, "shoes": None},
        "brands": ["Stride"],
        "dislikedBrands": [],
        "categories": [],
        "styles": [],
        "colors": [],
        "dislikedColors": [],
        "priceMin": None,
        "priceMax": "99.50",
    }
    (summary,) = snapshot["history"]
    assert summary["summary"] == "Asked for running shoes" and summary["channel"] == "voice"
    assert summary["createdAt"].endswith("Z")
    assert {a["kind"] for a in snapshot["affinities"]} == {"product", "category", "brand"}
    assert all(a["weight"] == 5.0 and a["strength"] == "strong" for a in snapshot["affinities"])


def test_snapshot_of_a_guest_is_empty(store):
    snapshot = memory_snapshot(user=None)
    assert snapshot["history"] == [] and snapshot["affinities"] == []
    assert snapshot["preferences"]["brands"] == []


def test_export_has_everything_and_the_retention(user, store):
    preferences_update(user=user, changes={"colors": ["black"]})
    export = memory_export(user=user)
    assert export["user"]["email"] == user.email
    assert export["preferences"]["colors"] == ["black"]
    assert set(export["retention"]) == {"preferences", "affinities", "history"}
