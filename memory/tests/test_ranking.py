import pytest
from django.contrib.auth.models import AnonymousUser

from catalog.models import Product
from catalog.selectors import RankCandidate, product_queryset, product_search
from memory.ranking import _sum
from memory.selectors import profile_for, rank_products_for_user, recommend_for_user, recommendation_reasons
from memory.services import affinity_apply_signal, preferences_update

pytestmark = pytest.mark.django_db

PLAIN = ["Alpha Hoodie", "Basic Tee", "Classic Jeans", "Neon Tee", "Road Runner", "Wool Socks"]


def names(products) -> list[str]:
    return [p.name for p in products]


def listing():
    return product_queryset().order_by("name", "id")


def test_no_memory_keeps_the_plain_order(user, store):
    assert names(rank_products_for_user(user=user, products=listing())) == PLAIN
    assert names(p for p, _ in recommend_for_user(user=user, base_queryset=listing())) == PLAIN
    assert all(reason == "" for _, reason in recommend_for_user(user=user, base_queryset=listing()))


def test_guests_keep_the_plain_order(store):
    for guest in (None, AnonymousUser()):
        assert names(rank_products_for_user(user=guest, products=listing())) == PLAIN


def test_a_shopper_who_likes_denim_sees_denim_first(user, store):
    preferences_update(user=user, changes={"styles": ["denim"]})
    ranked = recommend_for_user(user=user, base_queryset=listing())
    assert ranked[0] == (store.jeans, "because you like denim")
    # Everything else keeps its plain order behind it.
    assert names(p for p, _ in ranked[1:]) == [n for n in PLAIN if n != "Classic Jeans"]


def test_a_disliked_brand_sinks_to_the_end_even_when_liked_otherwise(user, store):
    preferences_update(user=user, changes={"dislikedBrands": ["Aerolite"], "categories": ["hoodies"]})
    assert names(rank_products_for_user(user=user, products=listing()))[-1] == "Alpha Hoodie"


def test_only_disliked_colours_sink(user, store):
    preferences_update(user=user, changes={"dislikedColors": ["neon"]})
    assert names(rank_products_for_user(user=user, products=listing()))[-1] == "Neon Tee"


def test_size_in_stock_lifts_and_price_range_counts(user, store):
    preferences_update(user=user, changes={"sizes": {"shoes": "10.5"}, "priceMin": "20", "priceMax": "140"})
    ranked = recommend_for_user(user=user, base_queryset=listing())
    # The shoe: in stock in 10.5 (+2) and within budget (+1); the socks are under the budget (-1).
    assert ranked[0] == (store.shoe, "in stock in your size 10.5")
    assert dict((p.name, r) for p, r in ranked)["Basic Tee"] == "within your price range"
    assert ranked[-1][0] == store.socks


def test_tops_size_not_in_stock_counts_against(user, store):
    preferences_update(user=user, changes={"sizes": {"tops": "L"}})
    ranked = names(rank_products_for_user(user=user, products=listing()))
    # The hoodie's L is sold out and the tees have no L: the tops go behind the rest.
    assert ranked[:3] == ["Classic Jeans", "Road Runner", "Wool Socks"]


def test_affinities_rank_what_the_shopper_bought_and_viewed(user, store):
    affinity_apply_signal(user_id=user.pk, product_ids=[store.socks.pk], signal="purchase", event_key="o1")
    ranked = recommend_for_user(user=user, base_queryset=listing())
    assert ranked[0][0] == store.socks
    assert ranked[0][1] in {
        "because you've shown interest in Northpeak",
        "because you've been looking at socks",
    }


def test_stated_preferences_outweigh_a_single_view(user, store):
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="v")
    preferences_update(user=user, changes={"brands": ["Denimworks"]})
    assert recommend_for_user(user=user, base_queryset=listing())[0] == (
        store.jeans,
        "because you like Denimworks",
    )


def test_ranking_works_on_the_catalog_search_and_keeps_its_order_for_ties(user, store):
    preferences_update(user=user, changes={"colors": ["grey"]})
    results = rank_products_for_user(user=user, products=product_search(query="tee"))
    assert names(results) == names(product_search(query="tee"))  # no tee is grey: order unchanged
    results = names(rank_products_for_user(user=user, products=product_search(sort="price_asc")))
    assert results[:2] == ["Wool Socks", "Road Runner"]


def test_sql_and_python_scores_agree(user, store):
    preferences_update(
        user=user,
        changes={
            "brands": ["Stride"],
            "dislikedBrands": ["Aerolite"],
            "categories": ["Tops"],
            "styles": ["casual"],
            "colors": ["grey"],
            "dislikedColors": ["neon"],
            "sizes": {"tops": "M", "shoes": "10.5", "bottoms": "30"},
            "priceMin": "18",
            "priceMax": "90",
        },
    )
    affinity_apply_signal(
        user_id=user.pk, product_ids=[store.jeans.pk, store.tee.pk], signal="cart_add", event_key="c"
    )
    profile = profile_for(user=user)
    scored = listing().annotate(score=profile.score_expression())
    for product in scored:
        assert product.score == pytest.approx(profile.explain(product)[0], abs=1e-6), product.name


def test_recommendations_take_a_bounded_number_of_queries(user, store, django_assert_max_num_queries):
    preferences_update(
        user=user, changes={"brands": ["Stride"], "categories": ["jeans"], "sizes": {"tops": "M"}}
    )
    for i, product in enumerate(Product.objects.all()):
        affinity_apply_signal(user_id=user.pk, product_ids=[product.pk], signal="view", event_key=f"v{i}")
    # preferences, affinities, categories; row-score pool, full-score pool; products, variants
    with django_assert_max_num_queries(7):
        ranked = recommend_for_user(user=user, limit=12)
        assert all(reason for _, reason in ranked[:3])


def test_default_recommendations_leave_out_sold_out_products(user, store):
    store.socks.variants.update(stock=0)
    preferences_update(user=user, changes={"brands": ["Northpeak"]})
    assert store.socks not in [p for p, _ in recommend_for_user(user=user)]


def test_reasons_for_a_fetched_listing(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"]})
    reasons = recommendation_reasons(user=user, products=list(listing()))
    assert reasons == {store.neon.pk: "because you like Stride", store.shoe.pk: "because you like Stride"}


def test_the_pool_orders_by_the_full_score_and_the_rest_by_the_row_score(user, store):
    preferences_update(
        user=user,
        changes={"brands": ["Stride"], "colors": ["grey"], "sizes": {"tops": "M"}, "priceMax": "70"},
    )
    profile = profile_for(user=user)
    exact = names(profile.rank_exact(listing()))
    assert names(profile.rank(listing())) == exact  # the pool holds the whole (small) queryset
    assert names(profile.top(listing(), 3)) == exact[:3]
    # With a pool of two, only the two Stride products (best row score) are fully scored.
    assert set(names(profile.rank(listing(), pool=2))[:2]) == {"Neon Tee", "Road Runner"}
    assert len(names(profile.rank(listing(), pool=2))) == 6


def _candidates(products):
    return [
        RankCandidate(p.pk, p.brand.lower(), p.category_id, tuple(str(t).lower() for t in p.tags or []))
        for p in products
    ]


@pytest.mark.parametrize(
    "changes",
    [
        {"brands": ["Stride"], "colors": ["grey"], "sizes": {"tops": "M"}, "priceMax": "70"},
        {"dislikedBrands": ["Aerolite"], "categories": ["hoodies"], "styles": ["casual"]},
        {"colors": ["grey"], "dislikedColors": ["neon"]},  # no row term: every candidate fully scored
        {"brands": ["Northpeak"], "styles": ["denim"]},  # no variant term: the row score alone
    ],
)
def test_ranking_cached_candidates_gives_the_databases_order(user, store, changes):
    """The order computed from a search's cached rows (Python row scores, the variant terms of the pool
    in one query) is the order the database gives the same queryset, pool and ties included."""
    preferences_update(user=user, changes=changes)
    affinity_apply_signal(user_id=user.pk, product_ids=[store.tee.pk], signal="cart_add", event_key="c")
    profile = profile_for(user=user)
    candidates = _candidates(listing())
    for pool in (300, 2):
        expected = [p.pk for p in profile.rank(listing(), pool=pool)]
        assert profile.order(candidates, pool=pool) == expected, (changes, pool)


def test_row_scores_in_python_match_the_sql_row_expression(user, store):
    preferences_update(
        user=user,
        changes={
            "brands": ["stride"],
            "dislikedBrands": ["Aerolite"],
            "categories": ["Tops"],
            "styles": ["Casual"],
        },
    )
    for i, product in enumerate(Product.objects.all()):
        affinity_apply_signal(user_id=user.pk, product_ids=[product.pk], signal="view", event_key=f"v{i}")
    profile = profile_for(user=user)
    sql = dict(listing().annotate(row=_sum(profile._row_parts())).values_list("pk", "row"))
    python = dict(zip([p.pk for p in listing()], profile.row_scores(_candidates(listing())), strict=True))
    assert python == pytest.approx(sql)


def test_for_you_picks_are_kept_until_the_shopper_states_something_new(user, store):
    preferences_update(user=user, changes={"brands": ["Stride"]})
    first = recommend_for_user(user=user, limit=3)
    assert first[0][1] == "because you like Stride"
    assert recommend_for_user(user=user, limit=3) == first  # kept: the same picks and reasons
    preferences_update(user=user, changes={"brands": [], "dislikedBrands": ["Stride"]})
    again = [p.brand for p, _ in recommend_for_user(user=user, limit=6)]
    assert "Stride" not in again[:2]
