from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from memory.errors import InvalidPreference, UnknownPreferenceKey
from memory.models import Affinity, InteractionSummary, Preference, SignalReceipt
from memory.selectors import affinities_list
from memory.services import (
    affinity_apply_signal,
    affinity_forget,
    history_clear,
    interaction_summary_record,
    memory_cleanup,
    memory_clear,
    memory_record_signal,
    memory_record_view,
    preference_forget,
    preferences_clear,
    preferences_update,
)

pytestmark = pytest.mark.django_db


def stored(user) -> dict:
    return dict(Preference.objects.filter(user=user).values_list("key", "value"))


# --- preferences -------------------------------------------------------------------------------
def test_preferences_are_stored_in_the_catalogs_spelling(user, store):
    prefs = preferences_update(
        user=user,
        changes={
            "sizes": {"tops": "m", "shoes": "10.5", "bottoms": "32"},
            "brands": ["stride", "DENIMWORKS"],
            "categories": ["jeans", "hoodies"],
            "styles": ["Denim"],
            "colors": ["Navy"],
            "priceMin": "20",
            "priceMax": 150,
        },
    )
    assert prefs.sizes == {"tops": "M", "bottoms": "32", "shoes": "10.5"}
    assert prefs.brands == ["Stride", "Denimworks"]
    assert prefs.categories == ["Jeans", "Hoodies & Sweatshirts"]
    assert prefs.styles == ["denim"] and prefs.colors == ["navy"]
    assert (prefs.price_min, prefs.price_max) == (Decimal("20.00"), Decimal("150.00"))
    assert stored(user)["sizes.shoes"] == "10.5" and stored(user)["priceMax"] == "150.00"


def test_unknown_brand_is_refused_with_a_close_match(user, store):
    with pytest.raises(InvalidPreference) as caught:
        preferences_update(user=user, changes={"brands": ["Stirde"]})
    assert "Stirde" in caught.value.message and "Did you mean Stride?" in caught.value.message
    assert caught.value.details["field"] == "brands"
    assert caught.value.details["suggestions"] == ["Stride"]
    assert caught.value.status_code == 422  # the catalog (data) refuses it: rule violated
    assert not Preference.objects.filter(user=user).exists()


def test_a_brand_the_catalog_gains_can_be_preferred_at_once(user, store):
    from catalog.tests.factories import ProductFactory

    with pytest.raises(InvalidPreference):  # the catalog's vocabulary is read and cached
        preferences_update(user=user, changes={"brands": ["Trailhawk"]})
    ProductFactory(brand="Trailhawk", category=store.hoodie.category)  # a catalog write: the admin, an import
    prefs = preferences_update(user=user, changes={"brands": ["Trailhawk"]})
    assert prefs.brands == ["Trailhawk"]


def test_unknown_value_without_close_match_lists_known_ones(user, store):
    with pytest.raises(InvalidPreference) as caught:
        preferences_update(user=user, changes={"colors": ["chartreuse"]})
    assert "chartreuse" in caught.value.message and "black" in caught.value.message


def test_a_word_of_a_catalog_colour_is_a_colour(user, store):
    prefs = preferences_update(user=user, changes={"dislikedColors": ["neon"]})
    assert prefs.disliked_colors == ["neon"]


def test_shoe_size_given_for_tops_is_refused_and_called_a_shoe_size(user, store):
    with pytest.raises(InvalidPreference) as caught:
        preferences_update(user=user, changes={"sizes": {"tops": "10.5"}})
    assert caught.value.details["field"] == "sizes.tops"
    assert "looks like a shoe size" in caught.value.message
    assert caught.value.details["suggestions"] == ["shoes"]


def test_top_size_given_for_shoes_is_refused(user, store):
    with pytest.raises(InvalidPreference) as caught:
        preferences_update(user=user, changes={"sizes": {"shoes": "M"}})
    assert "not a size for shoes" in caught.value.message


def test_every_bad_field_is_reported_and_nothing_is_written(user, store):
    with pytest.raises(InvalidPreference) as caught:
        preferences_update(
            user=user, changes={"sizes": {"tops": "huge"}, "brands": ["Nope"], "priceMin": "-3"}
        )
    assert set(caught.value.details["fields"]) == {"sizes.tops", "brands", "priceMin"}
    assert not Preference.objects.exists()


def test_unknown_field_and_inverted_price_range_are_refused(user, store):
    with pytest.raises(InvalidPreference, match="Unknown preference"):
        preferences_update(user=user, changes={"favouriteFood": "pizza"})
    preferences_update(user=user, changes={"priceMax": "50"})
    with pytest.raises(InvalidPreference, match="must not be above"):
        preferences_update(user=user, changes={"priceMin": "80"})


def test_partial_update_leaves_other_fields_and_lists_replace(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"], "sizes": {"tops": "M"}})
    prefs = preferences_update(user=user, changes={"brands": ["Aerolite"]})
    assert prefs.brands == ["Aerolite"] and prefs.sizes["tops"] == "M"


def test_merge_adds_to_a_list_as_the_chat_does(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"]})
    prefs = preferences_update(user=user, changes={"brands": ["Aerolite", "stride"]}, merge=True)
    assert prefs.brands == ["Stride", "Aerolite"]


def test_liking_a_disliked_brand_removes_the_dislike(user, store):
    preferences_update(user=user, changes={"dislikedBrands": ["Stride", "Aerolite"]})
    prefs = preferences_update(user=user, changes={"brands": ["Stride"]}, merge=True)
    assert prefs.brands == ["Stride"] and prefs.disliked_brands == ["Aerolite"]
    with pytest.raises(InvalidPreference, match="both liked and disliked"):
        preferences_update(user=user, changes={"brands": ["Stride"], "dislikedBrands": ["stride"]})


def test_null_or_empty_removes_the_row(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"], "sizes": {"tops": "M", "shoes": "9"}})
    preferences_update(user=user, changes={"brands": [], "sizes": {"tops": None}})
    assert set(stored(user)) == {"sizes.shoes"}


# --- forgetting ---------------------------------------------------------------------------------
def test_forgetting_one_key_deletes_its_row_only(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"], "colors": ["black"], "sizes": {"tops": "M"}})
    assert preference_forget(user=user, key="colors") is True
    assert set(stored(user)) == {"brands", "sizes.tops"}
    assert preference_forget(user=user, key="colors") is False


def test_forgetting_sizes_and_price_range_deletes_every_row_of_them(user, store):
    preferences_update(
        user=user,
        changes={"sizes": {"tops": "M", "shoes": "9", "bottoms": "30"}, "priceMin": 1, "priceMax": 9},
    )
    preference_forget(user=user, key="priceRange")
    assert set(stored(user)) == {"sizes.tops", "sizes.shoes", "sizes.bottoms"}
    preference_forget(user=user, key="sizes")
    assert stored(user) == {}


def test_forgetting_one_value_of_a_list(user, store):
    preferences_update(user=user, changes={"brands": ["Stride", "Aerolite"]})
    assert preference_forget(user=user, key="brands", value="stride") is True
    assert stored(user)["brands"] == ["Aerolite"]
    preference_forget(user=user, key="brands", value="Aerolite")
    assert "brands" not in stored(user)


def test_forgetting_an_unknown_key_is_a_404(user):
    with pytest.raises(UnknownPreferenceKey) as caught:
        preference_forget(user=user, key="shoeSize")
    assert caught.value.status_code == 404


def test_clear_everything_empties_every_table_for_that_user_only(user, other_user, store):
    for who in (user, other_user):
        preferences_update(user=who, changes={"brands": ["Stride"]})
        affinity_apply_signal(
            user_id=who.pk, product_ids=[store.shoe.pk], signal="view", event_key=f"k{who.pk}"
        )
        interaction_summary_record(user=who, conversation_label="c", text="Looked at shoes")
    counts = memory_clear(user=user)
    assert counts == {"preferences": 1, "affinities": 3, "history": 1}
    for model in (Preference, Affinity, InteractionSummary, SignalReceipt):
        assert not model.objects.filter(user=user).exists()
        assert model.objects.filter(user=other_user).exists()


def test_clear_preferences_history_and_one_affinity(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"], "colors": ["black"]})
    interaction_summary_record(user=user, conversation_label="c", text="one")
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="a")
    assert preferences_clear(user=user) == 2 and not Preference.objects.filter(user=user).exists()
    assert history_clear(user=user) == 1 and not InteractionSummary.objects.exists()
    brand = Affinity.objects.get(user=user, kind="brand")
    affinity_forget(user=user, affinity_id=brand.pk)
    assert set(Affinity.objects.filter(user=user).values_list("kind", flat=True)) == {"product", "category"}


@pytest.mark.postgres  # SQLite has no row locks (its writers are serial anyway)
def test_forgetting_interests_waits_for_a_signal_being_applied(user, store):
    # A signal reads the shopper's affinities and upserts them under the shopper's row lock: a forget
    # that did not take it could delete a row between that read and the upsert, which would bring the
    # row back.
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from memory.services import affinities_clear

    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="a")
    brand = Affinity.objects.get(user=user, kind="brand")
    for forget in (
        lambda: affinity_forget(user=user, affinity_id=brand.pk),
        lambda: affinities_clear(user=user),
    ):
        with CaptureQueriesContext(connection) as queries:
            forget()
        sql = [q["sql"] for q in queries]
        lock = next(i for i, q in enumerate(sql) if "FOR UPDATE" in q and "accounts_user" in q)
        assert lock < next(i for i, q in enumerate(sql) if q.startswith("DELETE") and "memory_affinity" in q)


def test_someone_elses_affinity_cannot_be_forgotten(user, other_user, store):
    affinity_apply_signal(user_id=other_user.pk, product_ids=[store.shoe.pk], signal="view", event_key="a")
    theirs = Affinity.objects.filter(user=other_user).first()
    with pytest.raises(Exception) as caught:
        affinity_forget(user=user, affinity_id=theirs.pk)
    assert caught.value.status_code == 404
    assert Affinity.objects.filter(pk=theirs.pk).exists()


# --- guests -------------------------------------------------------------------------------------
def test_guests_get_no_long_term_memory(store, django_capture_on_commit_callbacks):
    for guest in (None, AnonymousUser()):
        assert preferences_update(user=guest, changes={"brands": ["Stride"]}).is_empty
        assert interaction_summary_record(user=guest, conversation_label="c", text="hi") is None
        assert memory_record_view(user=guest, product_id=store.shoe.pk) is False
        assert preference_forget(user=guest, key="brands") is False
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert memory_record_signal(user_id=None, product_ids=[store.shoe.pk], signal="purchase") is False
    assert callbacks == []
    assert not Preference.objects.exists() and not Affinity.objects.exists()
    assert not InteractionSummary.objects.exists()


# --- implicit signals ---------------------------------------------------------------------------
def test_a_view_is_recorded_after_commit_by_the_task(user, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert memory_record_view(user=user, product_id=store.shoe.pk) is True
        assert not Affinity.objects.exists()  # nothing written before commit
    assert len(callbacks) == 1
    rows = {(a.kind, a.label): a.score for a in Affinity.objects.filter(user=user)}
    assert rows == {
        ("product", "Road Runner"): 1.0,
        ("category", "Running Shoes"): 1.0,
        ("brand", "Stride"): 1.0,
    }


def test_reloading_a_page_counts_one_view(user, store, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        memory_record_view(user=user, product_id=store.shoe.pk)
        assert memory_record_view(user=user, product_id=store.shoe.pk) is False
    assert Affinity.objects.get(user=user, kind="product").score == 1.0


def test_signals_are_weighted_view_cart_purchase(user, store):
    for signal, key in (("view", "v"), ("cart_add", "c"), ("purchase", "p")):
        affinity_apply_signal(user_id=user.pk, product_ids=[store.hoodie.pk], signal=signal, event_key=key)
    assert Affinity.objects.get(user=user, kind="product").score == pytest.approx(9.0, rel=1e-3)


def test_the_same_event_counts_once(user, store):
    assert affinity_apply_signal(
        user_id=user.pk, product_ids=[store.jeans.pk], signal="purchase", event_key="o1"
    )
    assert not affinity_apply_signal(
        user_id=user.pk, product_ids=[store.jeans.pk], signal="purchase", event_key="o1"
    )
    assert Affinity.objects.get(user=user, kind="product").score == 5.0


def test_a_signal_for_a_shopper_who_is_gone_changes_nothing(store):
    assert not affinity_apply_signal(
        user_id=987654, product_ids=[store.jeans.pk], signal="view", event_key="gone"
    )
    assert not SignalReceipt.objects.filter(key="gone").exists() and not Affinity.objects.exists()


def test_a_second_signal_updates_the_shopper_s_rows_in_one_upsert(user, store):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="first")
    with CaptureQueriesContext(connection) as queries:
        affinity_apply_signal(
            user_id=user.pk, product_ids=[store.shoe.pk], signal="cart_add", event_key="second"
        )

    writes = [
        q["sql"] for q in queries if "memory_affinity" in q["sql"] and not q["sql"].startswith("SELECT")
    ]
    assert len(writes) == 1 and writes[0].startswith("INSERT") and "ON CONFLICT" in writes[0]
    assert {a.kind: a.score for a in Affinity.objects.filter(user=user)} == pytest.approx(
        {"product": 4.0, "category": 4.0, "brand": 4.0}, rel=1e-3
    )


def test_affinities_halve_every_half_life(user, store, settings):
    settings.MEMORY_AFFINITY_HALF_LIFE_DAYS = 30
    then = timezone.now() - timedelta(days=30)
    affinity_apply_signal(
        user_id=user.pk, product_ids=[store.shoe.pk], signal="purchase", event_key="old", occurred_at=then
    )
    weights = {a.kind: a.weight for a in affinities_list(user=user)}
    assert weights["brand"] == pytest.approx(2.5, rel=1e-3)
    # A new view folds the decayed value in: 2.5 + 1.
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="new")
    assert {a.kind: a.weight for a in affinities_list(user=user)}["brand"] == pytest.approx(3.5, rel=1e-3)


def test_a_late_signal_is_decayed_to_the_latest_event(user, store, settings):
    settings.MEMORY_AFFINITY_HALF_LIFE_DAYS = 30
    now = timezone.now()
    affinity_apply_signal(
        user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="a", occurred_at=now
    )
    affinity_apply_signal(
        user_id=user.pk,
        product_ids=[store.shoe.pk],
        signal="purchase",
        event_key="b",
        occurred_at=now - timedelta(days=30),
    )
    row = Affinity.objects.get(user=user, kind="brand")
    assert row.score == pytest.approx(3.5, rel=1e-3) and row.last_event_at == now


def test_cleanup_applies_retention(user, store, settings):
    settings.MEMORY_SUMMARY_RETENTION_DAYS = 180
    old = interaction_summary_record(user=user, conversation_label="c", text="old")
    InteractionSummary.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=181))
    interaction_summary_record(user=user, conversation_label="c", text="recent")
    affinity_apply_signal(
        user_id=user.pk,
        product_ids=[store.shoe.pk],
        signal="view",
        event_key="ancient",
        occurred_at=timezone.now() - timedelta(days=400),
    )
    affinity_apply_signal(user_id=user.pk, product_ids=[store.jeans.pk], signal="view", event_key="fresh")
    SignalReceipt.objects.filter(key="ancient").update(created_at=timezone.now() - timedelta(days=8))
    result = memory_cleanup()
    assert result == {"history": 1, "affinities": 3, "receipts": 1}
    assert list(InteractionSummary.objects.values_list("text", flat=True)) == ["recent"]
    assert set(Affinity.objects.values_list("label", flat=True)) == {"Classic Jeans", "Jeans", "Denimworks"}


def test_summaries_are_cut_to_280_characters(user):
    summary = interaction_summary_record(
        user=user, conversation_label="web chat", text="word " * 100, channel="web"
    )
    assert len(summary.text) == 280 and summary.text.endswith("…")
