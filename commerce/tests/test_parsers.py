"""ENFORCE_JSON_CONTENT_TYPE: on, only application/json bodies are read; off, any body that is JSON."""

from __future__ import annotations

import json

import pytest
from django.test import override_settings

from carts.models import Cart
from catalog.tests.factories import VariantFactory
from commerce.accounts.tests.factories import ShopperSessionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def guest(api_client):
    session = ShopperSessionFactory()
    api_client.credentials(HTTP_X_SESSION_ID=session.key)
    api_client.session_obj = session
    return api_client


def _add_as(client, content_type: str, body: bytes | None = None):
    variant = VariantFactory(stock=5)
    payload = {"productId": str(variant.product_id), "variantId": str(variant.pk), "quantity": 2}
    return client.post("/api/v1/cart/items", body or json.dumps(payload).encode(), content_type=content_type)


def test_by_default_a_json_body_sent_as_text_is_refused_with_415(guest):
    response = _add_as(guest, "text/plain")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    assert not Cart.objects.filter(lines__isnull=False).exists()


@override_settings(ENFORCE_JSON_CONTENT_TYPE=False)
def test_switched_off_a_json_body_of_any_type_is_read_as_json(guest):
    response = _add_as(guest, "text/plain")
    assert response.status_code == 201, response.content
    assert response.json()["itemCount"] == 2
    form = _add_as(guest, "application/x-www-form-urlencoded")
    assert form.status_code == 201


@override_settings(ENFORCE_JSON_CONTENT_TYPE=False)
def test_switched_off_a_body_that_is_not_json_is_still_refused_with_415(guest):
    response = _add_as(guest, "text/plain", b"productId=1&quantity=2")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"
    malformed = _add_as(guest, "application/json", b"{nope")
    assert malformed.status_code == 400 and malformed.json()["error"]["code"] == "malformed_json"
