"""Bearer JWTs on the API: the account they name is read once per request through a read built once per
process (commerce.accounts.authentication.StoreJWTAuthentication), with simplejwt's answers kept."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken, RefreshToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from commerce.accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def _client_with(token: AccessToken) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_a_jwt_signs_its_own_account_in():
    shopper, other = UserFactory(), UserFactory()
    for user in (shopper, other, shopper):  # the read is remembered after the first: each still gets its own
        r = _client_with(RefreshToken.for_user(user).access_token).get("/api/v1/account")
        assert r.status_code == 200 and r.json()["email"] == user.email


def test_the_account_is_read_once_per_request():
    user = UserFactory()
    client = _client_with(RefreshToken.for_user(user).access_token)
    client.get("/api/v1/account")
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/api/v1/account").status_code == 200
    account_reads = [q["sql"] for q in queries.captured_queries if 'FROM "accounts_user"' in q["sql"]]
    assert len(account_reads) == 1


def test_a_jwt_of_a_deactivated_account_is_refused():
    user = UserFactory()
    client = _client_with(RefreshToken.for_user(user).access_token)
    user.is_active = False
    user.save(update_fields=["is_active"])
    r = client.get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_a_jwt_of_a_deleted_account_is_refused():
    user = UserFactory()
    client = _client_with(RefreshToken.for_user(user).access_token)
    user.delete()
    r = client.get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_a_jwt_naming_an_id_past_any_account_is_refused():
    token = RefreshToken.for_user(UserFactory()).access_token
    token["user_id"] = str(2**40)  # past 32 bits: the ORM reads it rather than the remembered read
    r = _client_with(token).get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"


def test_with_revocation_on_a_password_change_refuses_the_older_jwts(settings):
    settings.SIMPLE_JWT = {**settings.SIMPLE_JWT, "CHECK_REVOKE_TOKEN": True}
    user = UserFactory()
    token = RefreshToken.for_user(user).access_token
    # simplejwt's token module keeps the settings it imported; the claim it would add, added here
    token["hash_password"] = get_md5_hash_password(user.password)
    old = _client_with(token)
    assert old.get("/api/v1/account").status_code == 200
    user.set_password("A-new-and-long-password-9")
    user.save(update_fields=["password"])
    r = old.get("/api/v1/account")
    assert r.status_code == 401 and r.json()["error"]["code"] == "invalid_credentials"
    token = RefreshToken.for_user(user).access_token
    token["hash_password"] = get_md5_hash_password(user.password)
    fresh = _client_with(token)
    assert fresh.get("/api/v1/account").status_code == 200


def test_the_schema_names_the_jwt_scheme(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert schema.json()["components"]["securitySchemes"]["jwtAuth"]["scheme"] == "bearer"
