"""Personal access tokens: the page that makes and revokes them, and the API that accepts them."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from catalog.tests.factories import VariantFactory
from commerce.accounts.models import PersonalAccessToken
from commerce.accounts.services import access_token_create, access_token_revoke
from commerce.accounts.tests.factories import UserFactory
from commerce.audit.models import AuditEvent
from commerce.errors import NotFound

pytestmark = pytest.mark.django_db


def _bearer(secret: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    return client


def _line(variant, quantity: int) -> dict[str, object]:
    return {"productId": str(variant.product_id), "variantId": str(variant.pk), "quantity": quantity}


def test_token_page_creates_a_token_shown_once_and_stored_hashed(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:tokens"), {"name": "Claude Desktop", "scopes": ["cart"], "expires_in_days": "30"}
    )
    assert response.status_code == 200
    secret = response.context["secret"]
    assert secret.startswith("pat_") and secret in response.content.decode()
    token = PersonalAccessToken.objects.get(user=user)
    assert token.name == "Claude Desktop" and token.scopes == ["read", "cart"]
    assert secret not in (token.token_hash, token.hint)
    assert abs(token.expires_at - (timezone.now() + timedelta(days=30))) < timedelta(minutes=1)
    again = client.get(reverse("accounts:tokens"))
    assert secret not in again.content.decode() and "Claude Desktop" in again.content.decode()
    assert "no-store" in again["Cache-Control"]


def test_token_page_refuses_a_nameless_token_with_a_form_error(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(reverse("accounts:tokens"), {"name": "", "expires_in_days": "30"})
    assert response.status_code == 400
    assert response.context["form"].errors["name"]
    assert not PersonalAccessToken.objects.exists()


def test_token_page_htmx_answers_only_the_tokens_section(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post(
        reverse("accounts:tokens"), {"name": "script", "expires_in_days": "7"}, HTTP_HX_REQUEST="true"
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'id="account-tokens"' in body and "<html" not in body


def test_revoked_token_is_refused_by_the_api(client):
    user = UserFactory()
    _token, secret = access_token_create(user=user, name="t", scopes=[], expires_in_days=7)
    assert _bearer(secret).get("/api/v1/orders").status_code == 200
    client.force_login(user)
    response = client.post(reverse("accounts:token-revoke", args=[_token.pk]))
    assert response.status_code == 302
    refused = _bearer(secret).get("/api/v1/orders")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"


def test_a_shopper_cannot_revoke_another_shoppers_token(client):
    owner, other = UserFactory(), UserFactory()
    token, _secret = access_token_create(user=owner, name="t", scopes=[], expires_in_days=7)
    with pytest.raises(NotFound):
        access_token_revoke(user=other, token_id=token.pk)
    client.force_login(other)
    assert client.post(reverse("accounts:token-revoke", args=[token.pk])).status_code == 404
    token.refresh_from_db()
    assert token.revoked_at is None


def test_expired_token_is_refused():
    user = UserFactory()
    _token, secret = access_token_create(user=user, name="t", scopes=[], expires_in_days=7)
    with time_machine.travel(timezone.now() + timedelta(days=8)):
        assert _bearer(secret).get("/api/v1/orders").status_code == 401


def test_read_token_reads_but_changes_nothing_through_the_api():
    user = UserFactory()
    variant = VariantFactory(stock=5)
    _token, secret = access_token_create(user=user, name="reader", scopes=["read"], expires_in_days=7)
    api = _bearer(secret)
    assert api.get("/api/v1/cart").status_code == 200
    refused = api.post("/api/v1/cart/items", _line(variant, 1), format="json")
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert api.patch("/api/v1/account", {"name": "x"}, format="json").status_code == 403
    assert api.get("/api/v1/cart").json()["items"] == []


def test_cart_token_changes_the_cart_but_cannot_change_the_account():
    user = UserFactory(name="Ada")
    variant = VariantFactory(stock=5)
    _token, secret = access_token_create(user=user, name="cart", scopes=["cart"], expires_in_days=7)
    api = _bearer(secret)
    added = api.post("/api/v1/cart/items", _line(variant, 2), format="json")
    assert added.status_code in (200, 201)
    assert api.patch("/api/v1/account", {"name": "Mallory"}, format="json").status_code == 403
    user.refresh_from_db()
    assert user.name == "Ada"


def test_every_token_use_and_refusal_is_in_the_audit_trail():
    user = UserFactory()
    token, secret = access_token_create(user=user, name="reader", scopes=["read"], expires_in_days=7)
    api = _bearer(secret)
    api.get("/api/v1/cart")
    api.post("/api/v1/cart/discount", {"code": "X"}, format="json")
    actions = list(
        AuditEvent.objects.filter(object_id=str(token.pk), object_type="accounts.personalaccesstoken")
        .order_by("id")
        .values_list("action", "summary")
    )
    assert [a for a, _ in actions] == ["token.create", "token.use", "token.refused"]
    assert actions[1][1]["what"] == "GET /api/v1/cart" and actions[1][1]["door"] == "api"
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_token_of_a_deactivated_account_is_refused():
    user = UserFactory()
    _token, secret = access_token_create(user=user, name="t", scopes=[], expires_in_days=7)
    user.is_active = False
    user.save()
    assert _bearer(secret).get("/api/v1/cart").status_code == 401


def test_token_requests_are_rate_limited_like_any_signed_in_client(settings):
    settings.RATE_LIMIT_AUTHENTICATED_PER_MINUTE = 2
    user = UserFactory()
    _token, secret = access_token_create(user=user, name="t", scopes=[], expires_in_days=7)
    api = _bearer(secret)
    statuses = [api.get("/api/v1/cart").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]


# --- a changed password ends token access too (a thief with the password could have made one) ---------
def _jwt_client(user) -> APIClient:
    from rest_framework_simplejwt.tokens import RefreshToken

    client = APIClient()
    refresh = RefreshToken.for_user(user)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {refresh.access_token}")
    client.refresh = str(refresh)  # type: ignore[attr-defined]
    return client


def test_a_password_change_revokes_every_access_token():
    from commerce.accounts.tests.factories import PASSWORD

    user = UserFactory()
    _token, secret = access_token_create(user=user, name="agent", scopes=["cart"], expires_in_days=30)
    assert _bearer(secret).get("/api/v1/cart").status_code == 200
    changed = _jwt_client(user).post(
        "/api/v1/account/password",
        {"currentPassword": PASSWORD, "newPassword": "a-new-long-passphrase-42"},
        format="json",
    )
    assert changed.status_code == 204
    refused = _bearer(secret).get("/api/v1/cart")
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_token"
    assert PersonalAccessToken.objects.get().revoked_at is not None
    assert AuditEvent.objects.filter(action="token.revoke", summary__reason="password_changed").exists()


def test_signing_out_everywhere_revokes_every_access_token():
    user = UserFactory()
    _token, secret = access_token_create(user=user, name="agent", scopes=[], expires_in_days=30)
    client = _jwt_client(user)
    out = client.post(
        "/api/v1/auth/logout", {"refreshToken": client.refresh, "everywhere": True}, format="json"
    )
    assert out.status_code == 204
    assert _bearer(secret).get("/api/v1/cart").status_code == 401


def test_the_token_page_says_a_password_change_revokes_the_tokens(client):
    client.force_login(UserFactory())
    page = client.get(reverse("accounts:tokens")).content.decode()
    assert "Changing your password or signing out everywhere revokes every token" in page
