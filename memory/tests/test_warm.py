"""After a memory write, the shopper's recent recommended listings are ranked again in the background
(memory.services.recommended_orders_warm), so the next view finds its order ready."""

from __future__ import annotations

import re
from unittest import mock

import pytest
from django.core.cache import cache
from django.core.cache.utils import make_template_fragment_key
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from kombu.exceptions import OperationalError as BrokerDown

from catalog.listing import personal_cards_key
from catalog.selectors import SearchResults
from commerce.outbox.models import OutboxMessage
from memory.models import Preference
from memory.ranking import order_cache_key
from memory.selectors import RECENT_LISTINGS_KEPT, profile_for, recommended_listings_recent
from memory.services import preferences_update, recommended_orders_warm

pytestmark = pytest.mark.django_db

NAME = re.compile(r'<h3 class="product-name">([^<]+)</h3>')
LISTING = "/products/?sort=recommended"
WARM_TASK = "memory.warm_recommended_orders"


def names(client: Client, path: str = LISTING) -> list[str]:
    response = client.get(path)
    assert response.status_code == 200
    return NAME.findall(response.content.decode())


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state(user, changes: dict, capture) -> None:
    """A preference stated as a request would: its transaction commits, then what waits for it runs."""
    with capture(execute=True):
        preferences_update(user=user, changes=changes)


def whole_catalog_order_key(user) -> str:
    results = SearchResults(query="", sort="recommended")
    profile = profile_for(user=user)
    return order_cache_key(
        user_id=user.pk, cache_token=profile.cache_token, candidates_key=results.candidates_key()
    )


def cards_key(user) -> str:
    profile = profile_for(user=user)
    results = SearchResults(query="", sort="recommended")
    key = personal_cards_key(results=results, page_number=1, user_id=user.pk, token=profile.cache_token)
    return make_template_fragment_key("listing-cards", [key])


def cards(page: str) -> str:
    return page[page.index('<div class="grid">') : page.index("</section>")]


def test_the_warmed_order_is_the_order_the_view_computes(user, store, django_capture_on_commit_callbacks):
    state(user, {"styles": ["casual"]}, django_capture_on_commit_callbacks)
    client = signed_in(user)
    names(client)  # seen in recommended order: remembered

    state(user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)
    key = whole_catalog_order_key(user)
    warmed = cache.get(key)
    assert warmed is not None

    warmed_page = client.get(LISTING).content.decode()  # the cards the warm rendered
    cache.delete(key)  # the view ranks on its own again
    cache.delete(cards_key(user))  # and renders its cards
    fresh_page = client.get(LISTING).content.decode()
    assert cache.get(key) == warmed
    assert cards(warmed_page) == cards(fresh_page)
    assert NAME.findall(fresh_page)[0] == "Classic Jeans"  # denim first, as the new preference says
    assert "Because you like denim" in fresh_page


def test_a_view_after_a_stated_preference_reads_the_warmed_order_and_profile(
    user, store, django_capture_on_commit_callbacks
):
    state(user, {"styles": ["casual"]}, django_capture_on_commit_callbacks)
    client = signed_in(user)
    names(client)

    state(user, {"styles": ["denim"], "colors": ["navy"]}, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as warm_view:
        shown = names(client)
    sql = [q["sql"] for q in warm_view.captured_queries]
    # Neither the profile (preferences, interests) nor the ranking's variant terms are read again.
    assert not any('"memory_preference"' in q or '"memory_affinity"' in q for q in sql)
    assert not any("memory_score" in q for q in sql)
    # Nor the cards: rendered by the warm, with their reasons (which read the variants).
    assert not any('"catalog_variant"' in q for q in sql)
    assert shown[0] == "Classic Jeans"

    cache.delete(f"memory:recent-listings:{user.pk}")  # forget what was seen: nothing to warm
    state(user, {"styles": ["casual"], "colors": []}, django_capture_on_commit_callbacks)
    with CaptureQueriesContext(connection) as cold_view:
        names(client)
    assert len(warm_view.captured_queries) < len(cold_view.captured_queries)
    assert any('"memory_preference"' in q["sql"] for q in cold_view.captured_queries)


def test_another_shopper_and_a_guest_never_see_the_warmed_order(
    user, other_user, store, django_capture_on_commit_callbacks
):
    plain = names(Client(), "/products/")
    state(user, {"styles": ["casual"]}, django_capture_on_commit_callbacks)
    mine = signed_in(user)
    names(mine)
    state(user, {"styles": [], "brands": ["Stride"]}, django_capture_on_commit_callbacks)
    state(other_user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)

    # The warm filled the viewer's order only: nothing is kept for the other shopper's new version.
    assert cache.get(whole_catalog_order_key(user)) is not None
    assert cache.get(whole_catalog_order_key(other_user)) is None

    theirs = names(signed_in(other_user))
    assert theirs[0] == "Classic Jeans"  # their own preference, not the warmed Stride-first order
    assert names(mine)[:2] == ["Neon Tee", "Road Runner"]  # Stride's two products first
    assert names(Client(), LISTING) == plain  # a guest's "recommended" is the plain order


def test_a_guest_and_a_shopper_who_never_viewed_recommended_schedule_nothing(
    user, store, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    names(Client(), LISTING)
    names(signed_in(user), "/products/")  # the plain order: not a recommended listing
    with django_capture_on_commit_callbacks(execute=False):
        preferences_update(user=user, changes={"brands": ["Stride"]})
    assert not OutboxMessage.objects.filter(task_name=WARM_TASK).exists()


def test_the_listings_remembered_are_the_last_few_searches(user, store, django_capture_on_commit_callbacks):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    client = signed_in(user)
    queries = ["tee", "hoodie", "jeans", "runner", "socks", "wool", "basic"]
    for query in queries:
        client.get(f"/products/?sort=recommended&q={query}")
    recent = recommended_listings_recent(user_id=user.pk)
    assert len(recent) == RECENT_LISTINGS_KEPT
    assert [r.search["query"] for r in recent] == queries[::-1][:RECENT_LISTINGS_KEPT]


def test_the_preference_is_saved_when_the_broker_is_down(
    user, store, settings, django_capture_on_commit_callbacks
):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    names(signed_in(user))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("commerce.outbox.services._send", side_effect=BrokerDown("connection refused")):
        state(user, {"brands": [], "styles": ["denim"]}, django_capture_on_commit_callbacks)

    assert Preference.objects.get(user=user, key="styles").value == ["denim"]
    message = OutboxMessage.objects.get(task_name=WARM_TASK)
    assert message.status == OutboxMessage.Status.PENDING  # the sweep sends it when the broker is back
    assert message.kwargs["user_id"] == user.pk
    assert names(signed_in(user))[0] == "Classic Jeans"  # the view ranks on its own meanwhile


def test_a_failing_warm_in_the_embedded_run_does_not_fail_the_write(
    user, store, django_capture_on_commit_callbacks
):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    names(signed_in(user))
    with mock.patch(
        "memory.services.recommended_orders_warm", side_effect=ConnectionError("redis went away")
    ):
        state(user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)
    assert Preference.objects.get(user=user, key="styles").value == ["denim"]


def test_a_late_warm_is_dropped(user, store, django_capture_on_commit_callbacks):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    names(signed_in(user))
    cache.delete(whole_catalog_order_key(user))
    assert recommended_orders_warm(user_id=user.pk, requested_at=0.0) == 0
    assert recommended_orders_warm(user_id=user.pk) == 1


def order_key(user, query: str) -> str:
    results = SearchResults(query=query, sort="recommended")
    profile = profile_for(user=user)
    return order_cache_key(
        user_id=user.pk, cache_token=profile.cache_token, candidates_key=results.candidates_key()
    )


def test_with_a_broker_the_write_ranks_the_newest_listing_itself_and_queues_the_rest(
    user, store, settings, django_capture_on_commit_callbacks
):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    client = signed_in(user)
    client.get("/products/?sort=recommended&q=tee")
    names(client)  # the whole catalog, seen last: the listing the shopper goes back to
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with mock.patch("commerce.outbox.services._send"):  # the broker takes the task; no worker runs it
        state(user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)

    assert cache.get(whole_catalog_order_key(user)) is not None  # ready before the write answered
    assert cache.get(cards_key(user)) is not None
    assert cache.get(order_key(user, "tee")) is None  # older: the task's
    assert OutboxMessage.objects.get(task_name=WARM_TASK).kwargs["user_id"] == user.pk


def test_no_listing_is_ranked_in_the_write_when_the_setting_is_zero(
    user, store, settings, django_capture_on_commit_callbacks
):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    names(signed_in(user))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    settings.MEMORY_WARM_INLINE_LISTINGS = 0
    with mock.patch("commerce.outbox.services._send"):
        state(user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)
    assert cache.get(whole_catalog_order_key(user)) is None
    assert OutboxMessage.objects.filter(task_name=WARM_TASK).exists()


def test_a_failing_warm_in_the_write_does_not_fail_it(
    user, store, settings, django_capture_on_commit_callbacks
):
    state(user, {"brands": ["Stride"]}, django_capture_on_commit_callbacks)
    names(signed_in(user))
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with (
        mock.patch("commerce.outbox.services._send"),
        mock.patch("memory.services.recommended_orders_warm", side_effect=ConnectionError("redis went away")),
    ):
        state(user, {"styles": ["denim"]}, django_capture_on_commit_callbacks)
    assert Preference.objects.get(user=user, key="styles").value == ["denim"]
    assert OutboxMessage.objects.filter(task_name=WARM_TASK).exists()
