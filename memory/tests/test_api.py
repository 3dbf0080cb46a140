import pytest
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

from memory.models import Affinity, InteractionSummary, Preference
from memory.services import affinity_apply_signal, interaction_summary_record, preferences_update

pytestmark = pytest.mark.django_db

ENDPOINTS = [
    ("get", "/api/v1/memory"),
    ("delete", "/api/v1/memory"),
    ("get", "/api/v1/memory/preferences"),
    ("put", "/api/v1/memory/preferences"),
    ("delete", "/api/v1/memory/preferences"),
    ("delete", "/api/v1/memory/preferences/brands"),
    ("get", "/api/v1/memory/history"),
    ("delete", "/api/v1/memory/history"),
    ("get", "/api/v1/memory/export"),
    ("delete", "/api/v1/memory/affinities/1"),
]


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


@pytest.mark.parametrize(("method", "path"), ENDPOINTS)
def test_guests_get_a_401_json_error(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_get_memory_returns_preferences_history_and_affinities(auth_client, store):
    user = auth_client.user
    preferences_update(user=user, changes={"sizes": {"tops": "M"}})
    interaction_summary_record(user=user, conversation_label="web", text="Looked for hoodies")
    affinity_apply_signal(user_id=user.pk, product_ids=[store.hoodie.pk], signal="view", event_key="v")
    body = auth_client.get("/api/v1/memory").json()
    assert body["preferences"]["sizes"] == {"tops": "M", "bottoms": None, "shoes": None}
    assert body["history"][0]["summary"] == "Looked for hoodies"
    assert {a["label"] for a in body["affinities"]} == {"Alpha Hoodie", "Hoodies & Sweatshirts", "Aerolite"}


def test_put_preferences_is_a_partial_update(auth_client, store):
    response = auth_client.put(
        "/api/v1/memory/preferences",
        {"sizes": {"shoes": "10.5"}, "brands": ["stride"], "priceMin": "25", "priceMax": 120},
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["sizes"]["shoes"] == "10.5" and body["brands"] == ["Stride"]
    assert (body["priceMin"], body["priceMax"]) == ("25.00", "120.00")
    body = auth_client.put("/api/v1/memory/preferences", {"colors": ["black"]}, format="json").json()
    assert body["brands"] == ["Stride"] and body["colors"] == ["black"]
    assert auth_client.get("/api/v1/memory/preferences").json() == body


def test_put_an_unknown_brand_is_a_422_naming_it_with_suggestions(auth_client, store):
    response = auth_client.put("/api/v1/memory/preferences", {"brands": ["Aerolit"]}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_preference"
    assert "Aerolit" in error["message"] and "Aerolite" in error["message"]
    assert error["details"]["suggestions"] == ["Aerolite"]


@pytest.mark.parametrize(
    "body",
    [["brands"], {"sizes": "M"}, {"sizes": {"hats": "M"}}, {"priceMax": "cheap"}, {"hats": ["M"]}],
)
def test_put_what_the_schema_forbids_is_a_400(auth_client, store, body):
    response = auth_client.put("/api/v1/memory/preferences", body, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_preference"


@pytest.mark.parametrize(
    "body",
    [
        {"sizes": {"tops": "10"}},
        {"colors": ["plaid-ish"]},
        {"priceMin": "90", "priceMax": "10"},
        {"priceMax": "9999999"},
        {"brands": ["Stride"], "dislikedBrands": ["Stride"]},
    ],
)
def test_put_what_a_rule_refuses_is_a_422(auth_client, store, body):
    response = auth_client.put("/api/v1/memory/preferences", body, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_preference"
    assert auth_client.get("/api/v1/memory/preferences").json()["brands"] == []


def test_forget_one_value_of_a_key_that_is_not_a_list_is_a_422(auth_client, store):
    response = auth_client.delete("/api/v1/memory/preferences/priceMin?value=10")
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_preference"


def test_put_without_json_is_refused(auth_client):
    response = auth_client.put("/api/v1/memory/preferences", "brands=Stride", content_type="text/plain")
    assert response.status_code == 415


def test_delete_one_key_removes_its_rows(auth_client, store):
    user = auth_client.user
    preferences_update(user=user, changes={"brands": ["Stride"], "sizes": {"tops": "M", "shoes": "9"}})
    response = auth_client.delete("/api/v1/memory/preferences/sizes.tops")
    assert response.status_code == 200 and response.json()["sizes"]["tops"] is None
    assert set(Preference.objects.filter(user=user).values_list("key", flat=True)) == {
        "brands",
        "sizes.shoes",
    }
    auth_client.delete("/api/v1/memory/preferences/brands?value=stride")
    assert set(Preference.objects.filter(user=user).values_list("key", flat=True)) == {"sizes.shoes"}


def test_delete_an_unknown_key_is_a_404(auth_client):
    response = auth_client.delete("/api/v1/memory/preferences/favouriteFood")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_preference_key"


def test_delete_preferences_history_and_everything(auth_client, store):
    user = auth_client.user
    preferences_update(user=user, changes={"brands": ["Stride"]})
    interaction_summary_record(user=user, conversation_label="web", text="one")
    affinity_apply_signal(user_id=user.pk, product_ids=[store.shoe.pk], signal="view", event_key="v")
    assert auth_client.delete("/api/v1/memory/preferences").json()["brands"] == []
    assert not Preference.objects.filter(user=user).exists()
    assert auth_client.delete("/api/v1/memory/history").json() == {"deleted": {"history": 1}}
    assert not InteractionSummary.objects.filter(user=user).exists()
    response = auth_client.delete("/api/v1/memory")
    assert response.json() == {"deleted": {"preferences": 0, "affinities": 3, "history": 0}}
    assert not Affinity.objects.filter(user=user).exists()


def test_history_is_a_paginated_list(auth_client):
    for i in range(3):
        interaction_summary_record(user=auth_client.user, conversation_label="c", text=f"summary {i}")
    body = auth_client.get("/api/v1/memory/history?limit=2&offset=1").json()
    assert body["total"] == 3 and body["limit"] == 2 and body["offset"] == 1
    assert [item["summary"] for item in body["items"]] == ["summary 1", "summary 0"]
    assert auth_client.get("/api/v1/memory/history?limit=-1").status_code == 400


def test_export_is_a_json_download(auth_client, store):
    preferences_update(user=auth_client.user, changes={"colors": ["grey"]})
    response = auth_client.get("/api/v1/memory/export")
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="my-memory-')
    assert response.json()["preferences"]["colors"] == ["grey"]


def test_a_user_only_ever_sees_and_changes_their_own_memory(auth_client, other_user, store):
    preferences_update(user=other_user, changes={"brands": ["Northpeak"]})
    interaction_summary_record(user=other_user, conversation_label="c", text="secret")
    affinity_apply_signal(user_id=other_user.pk, product_ids=[store.socks.pk], signal="view", event_key="x")
    theirs = Affinity.objects.filter(user=other_user).first()
    mine = auth_client.get("/api/v1/memory").json()
    assert mine["preferences"]["brands"] == [] and mine["history"] == [] and mine["affinities"] == []
    assert auth_client.delete(f"/api/v1/memory/affinities/{theirs.pk}").status_code == 404
    auth_client.delete("/api/v1/memory")
    assert Preference.objects.filter(user=other_user).exists()
    assert Affinity.objects.filter(user=other_user).count() == 3
    assert client_for(other_user).get("/api/v1/memory").json()["preferences"]["brands"] == ["Northpeak"]


def test_forget_one_affinity_by_id(auth_client, store):
    affinity_apply_signal(
        user_id=auth_client.user.pk, product_ids=[store.socks.pk], signal="view", event_key="x"
    )
    brand = Affinity.objects.get(user=auth_client.user, kind="brand")
    body = auth_client.delete(f"/api/v1/memory/affinities/{brand.pk}").json()
    assert {a["kind"] for a in body["affinities"]} == {"product", "category"}


def test_the_schema_documents_the_memory_endpoints(api_client):
    schema = api_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    assert {"/api/v1/memory", "/api/v1/memory/preferences", "/api/v1/memory/preferences/{key}"} <= set(
        schema["paths"]
    )
