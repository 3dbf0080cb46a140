import pytest
from django.urls import reverse

from commerce.accounts.models import ShopperSession, User

pytestmark = pytest.mark.django_db


def test_register_returns_tokens_and_session(api_client):
    r = api_client.post(
        "/api/v1/auth/register",
        {"email": "New@Example.com", "password": "SecurePass123!", "name": "New"},
        format="json",
    )
    assert r.status_code == 201
    body = r.json()
    assert body["user"]["email"] == "new@example.com"
    assert body["accessToken"] and body["refreshToken"]
    assert ShopperSession.objects.get(key=body["sessionId"]).user.email == "new@example.com"


def test_register_with_taken_email_is_a_clear_409(api_client, user):
    r = api_client.post(
        "/api/v1/auth/register", {"email": user.email.upper(), "password": "SecurePass123!"}, format="json"
    )
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "email_taken"


def test_register_with_weak_password_is_a_422_naming_the_field(api_client):
    r = api_client.post("/api/v1/auth/register", {"email": "a@example.com", "password": "123"}, format="json")
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "weak_password" and "password" in err["details"]["fields"]
    assert not User.objects.filter(email="a@example.com").exists()


def test_login_with_wrong_password_is_401(api_client, user):
    r = api_client.post("/api/v1/auth/login", {"email": user.email, "password": "wrong"}, format="json")
    assert r.status_code == 401
    assert r.json()["error"]["code"] == "invalid_credentials"


def test_refresh_rotates_and_blacklists_the_used_token(api_client, user):
    tokens = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": "SecurePass123!"}, format="json"
    ).json()
    first = api_client.post("/api/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert first.status_code == 200 and first.json()["refreshToken"] != tokens["refreshToken"]
    again = api_client.post("/api/v1/auth/refresh", {"refreshToken": tokens["refreshToken"]}, format="json")
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "invalid_token"


def test_account_patch_validates_phone_and_timezone(auth_client):
    bad = auth_client.patch("/api/v1/account", {"phone": "not a phone"}, format="json")
    assert bad.status_code == 400 and "phone" in bad.json()["error"]["details"]["fields"]
    bad_tz = auth_client.patch("/api/v1/account", {"timezone": "Mars/Olympus"}, format="json")
    assert bad_tz.status_code == 400
    ok = auth_client.patch(
        "/api/v1/account",
        {"phone": "+14155550123", "timezone": "America/Chicago", "voiceOptIn": True},
        format="json",
    )
    assert ok.status_code == 200
    assert (
        ok.json() | {"phone": "+14155550123", "timezone": "America/Chicago", "voiceOptIn": True} == ok.json()
    )


def test_account_needs_a_token(api_client):
    r = api_client.get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "not_authenticated"


def test_garbage_bearer_token_is_a_401_json_error(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer x.y.z")
    r = api_client.get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_token"


def test_session_lifecycle(api_client):
    created = api_client.post(
        "/api/v1/sessions", {"channel": "kiosk", "initialContext": {"store": "7"}}, format="json"
    )
    assert created.status_code == 201
    sid = created.json()["sessionId"]
    assert api_client.get(f"/api/v1/sessions/{sid}").json()["channel"] == "kiosk"
    assert api_client.delete(f"/api/v1/sessions/{sid}").status_code == 204
    gone = api_client.get(f"/api/v1/sessions/{sid}")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "session_not_found"


def test_unknown_channel_is_a_400(api_client):
    r = api_client.post("/api/v1/sessions", {"channel": "fax"}, format="json")
    assert r.status_code == 400


def test_another_users_session_is_not_found(auth_client, db):
    from commerce.accounts.tests.factories import UserFactory

    theirs = ShopperSession.objects.create(channel="web", user=UserFactory())
    assert auth_client.get(f"/api/v1/sessions/{theirs.key}").status_code == 404


def test_malformed_json_and_non_json_bodies(api_client):
    bad = api_client.generic("POST", "/api/v1/sessions", "{nope", content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "malformed_json"
    text = api_client.generic("POST", "/api/v1/sessions", "hi", content_type="text/plain")
    assert text.status_code == 415 and text.json()["error"]["code"] == "unsupported_media_type"


def test_unknown_api_path_is_a_json_404(client):
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["error"]["code"] == "not_found"


def test_oversized_api_body_is_413(client, settings):
    settings.REQUEST_MAX_BODY_BYTES = 100
    r = client.post("/api/v1/sessions", "x" * 200, content_type="application/json")
    assert r.status_code == 413 and r.json()["error"]["code"] == "body_too_large"


def test_schema_and_docs_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    docs = client.get(reverse("api-docs"))
    assert docs.status_code == 200 and b"cdn" not in docs.content.lower()


def test_a_session_context_with_nul_characters_is_stored_not_a_500(api_client):
    """PostgreSQL's jsonb holds no NUL: found by schemathesis (a 500 before); stored as U+FFFD."""
    r = api_client.post(
        "/api/v1/sessions",
        {"channel": "api", "initialContext": {"pa\u0000ge": ["a\u0000", {"\u0000": "x"}]}},
        format="json",
    )
    assert r.status_code == 201
    session = ShopperSession.objects.get(key=r.json()["sessionId"])
    assert session.initial_context == {"pa\ufffdge": ["a\ufffd", {"\ufffd": "x"}]}
