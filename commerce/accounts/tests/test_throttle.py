"""Login locks (issue 12, item 2): per account and per client address, on every door that checks a
password or creates an account, shared through the cache, lifted by the cool-off or by staff."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.contrib.admin import helpers

from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/api/v1/auth/login"


def _api_login(client, email: str, password: str, address: str = "10.0.0.1", **extra):
    return client.post(
        LOGIN, {"email": email, "password": password}, format="json", REMOTE_ADDR=address, **extra
    )


def _assert_locked(response) -> None:
    assert response.status_code == 429
    assert response.json()["error"]["code"] == "rate_limited"
    assert int(response["Retry-After"]) == 15 * 60


@pytest.mark.parametrize("known", [True, False], ids=["known-account", "unknown-email"])
def test_the_api_login_locks_an_account_after_five_failures_and_refuses_the_right_password(api_client, known):
    email = UserFactory().email if known else "nobody@example.com"
    statuses = [
        _api_login(api_client, email, "wrong-guess", address=f"10.0.1.{i}").status_code for i in range(4)
    ]
    assert statuses == [401] * 4
    _assert_locked(_api_login(api_client, email, "wrong-guess", address="10.0.1.9"))
    # Locked: the right password too, from any address; an unknown e-mail answers exactly the same.
    _assert_locked(_api_login(api_client, email, PASSWORD, address="10.0.2.1"))


def test_one_address_is_locked_across_accounts_and_others_are_not(api_client):
    user = UserFactory()
    for i in range(5):
        _api_login(api_client, f"guess{i}@example.com", "wrong-guess", address="10.0.0.7")
    _assert_locked(_api_login(api_client, user.email, PASSWORD, address="10.0.0.7"))
    assert _api_login(api_client, user.email, PASSWORD, address="10.0.0.8").status_code == 200


def test_x_forwarded_for_cannot_dodge_the_address_lock_without_proxies(api_client, settings):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0
    user = UserFactory()
    for i in range(5):
        _api_login(
            api_client,
            f"guess{i}@example.com",
            "wrong",
            address="10.0.0.7",
            HTTP_X_FORWARDED_FOR=f"1.2.3.{i}",
        )
    locked = _api_login(api_client, user.email, PASSWORD, address="10.0.0.7", HTTP_X_FORWARDED_FOR="9.9.9.9")
    _assert_locked(locked)


def test_the_lock_ends_after_the_cool_off(api_client, settings):
    # A one-second cool-off and a real wait: the counters expire in the cache itself (Redis' own clock in
    # the production-shaped pass), which no clock patching in this process could move.
    settings.AXES_COOLOFF_TIME = timedelta(seconds=1)
    user = UserFactory()
    for _ in range(5):
        _api_login(api_client, user.email, "wrong-guess")
    assert _api_login(api_client, user.email, PASSWORD).status_code == 429
    time.sleep(1.5)
    assert _api_login(api_client, user.email, PASSWORD).status_code == 200


def test_the_page_login_shows_the_lock_as_a_form_error(client):
    user = UserFactory()
    for _ in range(5):
        client.post("/account/login/", {"username": user.email, "password": "wrong-guess"})
    response = client.post("/account/login/", {"username": user.email, "password": PASSWORD})
    assert response.status_code == 200
    assert "Too many failed attempts" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_admin_login_is_locked_too(client, settings):
    settings.ADMIN_MFA_REQUIRED = False
    staff = UserFactory(is_staff=True)
    for _ in range(5):
        client.post("/admin/login/", {"username": staff.email, "password": "wrong-guess"})
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 200 and "Too many failed attempts" in response.content.decode()
    assert client.get("/admin/").status_code == 302


def test_register_counts_refusals_and_locks(api_client, client):
    taken = UserFactory().email
    for _ in range(5):
        response = api_client.post(
            "/api/v1/auth/register", {"email": taken, "password": "AnotherPass987!"}, format="json"
        )
        assert response.status_code in (409, 429)
    _assert_locked(
        api_client.post(
            "/api/v1/auth/register",
            {"email": "fresh@example.com", "password": "AnotherPass987!"},
            format="json",
        )
    )
    page = client.post(
        "/account/register/",
        {"email": "fresh@example.com", "password1": "AnotherPass987!", "password2": "AnotherPass987!"},
    )
    assert page.status_code == 200 and "Too many failed attempts" in page.content.decode()


def test_password_change_wrong_current_passwords_lock(auth_client):
    for _ in range(4):
        response = auth_client.post(
            "/api/v1/account/password",
            {"currentPassword": "wrong-guess", "newPassword": "BrandNewPass987!"},
            format="json",
        )
        assert response.status_code == 400
    _assert_locked(
        auth_client.post(
            "/api/v1/account/password",
            {"currentPassword": "wrong-guess", "newPassword": "BrandNewPass987!"},
            format="json",
        )
    )
    _assert_locked(
        auth_client.post(
            "/api/v1/account/password",
            {"currentPassword": PASSWORD, "newPassword": "BrandNewPass987!"},
            format="json",
        )
    )


def test_staff_unlock_an_account_in_the_admin(api_client, client, settings):
    settings.ADMIN_MFA_REQUIRED = False
    user = UserFactory()
    for i in range(5):
        _api_login(api_client, user.email, "wrong-guess", address=f"10.0.3.{i}")
    _assert_locked(_api_login(api_client, user.email, PASSWORD, address="10.0.4.1"))

    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    response = client.post(
        "/admin/accounts/user/",
        {"action": "unlock_sign_in", helpers.ACTION_CHECKBOX_NAME: [user.pk]},
    )
    assert response.status_code == 302
    assert _api_login(api_client, user.email, PASSWORD, address="10.0.4.1").status_code == 200
