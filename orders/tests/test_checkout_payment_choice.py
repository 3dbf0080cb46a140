"""The checkout page's payment choice and hidden fields (issue 17): test cards instead of a typed token,
the free token field behind a disclosure, no label for a hidden field, and the API unchanged."""

from __future__ import annotations

import re

import pytest
from django import forms
from django.template.loader import render_to_string

from orders.models import Order
from orders.payments import TEST_APPROVE_PREFIX, TestGateway
from orders.tests.conftest import ADDRESS

pytestmark = pytest.mark.django_db
APPROVED, DECLINED = (token for token, _label in TestGateway.test_cards)


def checkout(client, **fields):
    return client.post("/checkout/", {**ADDRESS, "idempotency_key": "k-1", **fields})


def test_the_page_offers_test_cards_says_no_real_card_is_charged_and_labels_no_hidden_field(
    client, user, filled_cart
):
    client.force_login(user)
    html = client.get("/checkout/").content.decode()

    assert "Test card — approved" in html and "Test card — declined" in html
    assert re.search(rf'<input type="radio" name="card" value="{APPROVED}"[^>]*checked', html)
    assert "no real card is charged" in html
    assert re.search(r"<details class=\"other-token\">\s*<summary>Use another token</summary>", html)
    assert 'type="hidden" name="idempotency_key"' in html
    assert "Idempotency key" not in html and 'for="id_idempotency_key"' not in html


def test_the_approved_test_card_places_the_order(client, user, filled_cart):
    client.force_login(user)

    response = checkout(client, card=APPROVED)

    assert response.status_code == 302
    assert Order.objects.get().payment_token == APPROVED


def test_the_declined_test_card_is_a_form_error_and_no_order(client, user, filled_cart):
    client.force_login(user)

    response = checkout(client, card=DECLINED)

    assert response.status_code == 200 and "The card was declined." in response.content.decode()
    assert not Order.objects.exists()


def test_a_typed_token_is_used_instead_of_the_chosen_card_and_opens_the_disclosure(client, user, filled_cart):
    client.force_login(user)

    declined = checkout(client, card=APPROVED, token="pm_fail_mine")
    placed = client.post(
        "/checkout/", {**ADDRESS, "idempotency_key": "k-2", "card": DECLINED, "token": "pm_test_mine"}
    )

    assert declined.status_code == 200 and '<details class="other-token" open>' in declined.content.decode()
    assert placed.status_code == 302 and Order.objects.get().payment_token == "pm_test_mine"


def test_a_card_that_is_not_offered_is_refused_as_a_form_error(client, user, filled_cart):
    client.force_login(user)

    response = checkout(client, card=f"{TEST_APPROVE_PREFIX}someone-elses")

    assert response.status_code == 200 and "Select a valid choice" in response.content.decode()
    assert not Order.objects.exists()


def test_nothing_chosen_asks_how_to_pay(client, user, filled_cart):
    client.force_login(user)

    response = checkout(client)

    assert response.status_code == 200 and "Choose how to pay." in response.content.decode()
    assert not Order.objects.exists()


def test_a_missing_hidden_key_says_what_to_do_without_naming_the_field(client, user, filled_cart):
    client.force_login(user)

    response = client.post("/checkout/", {**ADDRESS, "card": APPROVED})

    html = response.content.decode()
    assert response.status_code == 200 and "reload the page and try again" in html
    assert "Idempotency key" not in html and not Order.objects.exists()


def test_without_test_cards_the_token_is_the_only_and_required_way_to_pay(
    client, user, filled_cart, monkeypatch
):
    monkeypatch.delattr(TestGateway, "test_cards")
    client.force_login(user)

    page = client.get("/checkout/").content.decode()
    refused = checkout(client)

    assert 'name="card"' not in page and "other-token" not in page and 'name="token"' in page
    assert "no real card is charged" not in page
    assert refused.status_code == 200 and "This field is required." in refused.content.decode()


class _FormWithAHiddenField(forms.Form):
    email = forms.EmailField(label="E-mail")
    next = forms.CharField(widget=forms.HiddenInput, label="Next page")


def test_the_shared_form_template_gives_hidden_fields_no_label_and_shows_their_errors():
    bound = _FormWithAHiddenField({"email": "a@example.com"})
    bound.is_valid()

    html = render_to_string("form_fields.html", {"form": bound})

    assert '<label for="id_email">E-mail:</label>' in html
    assert 'type="hidden" name="next"' in html and "Next page" not in html
    assert "This field is required." in html
