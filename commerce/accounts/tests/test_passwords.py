"""Sign-out, password change and reset, deactivation (issue 12, items 5 and 8; CONTRACT.md section 6)."""

from __future__ import annotations

import re

import pytest
from django.conf import settings as django_settings
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient

from commerce.accounts.services import user_deactivate
from commerce.accounts.signals import credentials_revoked
from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "BrandNewPass987!"


@pytest.fixture
def revoked():
    """Every credentials_revoked sent: (user pk, reason)."""
    seen: list[tuple[int, str]] = []

    def receiver(sender, user, reason, **kwargs):
        seen.append((user.pk, reason))

    credentials_revoked.connect(receiver, dispatch_uid="test-revoked")
    yield seen
    credentials_revoked.disconnect(dispatch_uid="test-revoked")


def _refresh(client: APIClient, token: str):
    return client.post("/api/v1/auth/refresh", {"refreshToken": token}, format="json")


def _signed_in(user) -> tuple[APIClient, str]:
    client = APIClient()
    body = client.post(
        "/api/v1/auth/login", {"email": user.email, "password": PASSWORD}, format="json"
    ).json()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['accessToken']}")
    return client, body["refreshToken"]


# --- API sign-out ---------------------------------------------------------------------------------
def test_logout_refuses_that_refresh_token_afterwards(user, django_capture_on_commit_callbacks, revoked):
    client, refresh = _signed_in(user)
    _, other_refresh = _signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/api/v1/auth/logout", {"refreshToken": refresh}, format="json")
    assert response.status_code == 204
    assert _refresh(APIClient(), refresh).status_code == 401
    assert _refresh(APIClient(), other_refresh).status_code == 200  # only that client signed out
    assert revoked == []


def test_logout_everywhere_refuses_every_refresh_token_and_closes_sockets(
    user, django_capture_on_commit_callbacks, revoked
):
    client, refresh = _signed_in(user)
    _, other_refresh = _signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/auth/logout", {"refreshToken": refresh, "everywhere": True}, format="json"
        )
    assert response.status_code == 204
    assert _refresh(APIClient(), refresh).status_code == 401
    assert _refresh(APIClient(), other_refresh).status_code == 401
    assert revoked == [(user.pk, "signed_out_everywhere")]


def test_logout_needs_a_signed_in_caller_and_their_own_token(user):
    _, refresh = _signed_in(user)
    assert (
        APIClient().post("/api/v1/auth/logout", {"refreshToken": refresh}, format="json").status_code == 401
    )
    stranger, _ = _signed_in(UserFactory())
    response = stranger.post("/api/v1/auth/logout", {"refreshToken": refresh}, format="json")
    # 422, rule violated: the request is well formed and signed in; the token is not the caller's.
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_token"
    assert _refresh(APIClient(), refresh).status_code == 200  # not someone else's to end
    bad = stranger.post("/api/v1/auth/logout", {"refreshToken": "not-a-token"}, format="json")
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_token"


# --- password change ------------------------------------------------------------------------------
def test_api_password_change_revokes_every_refresh_token(user, django_capture_on_commit_callbacks, revoked):
    client, refresh = _signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/api/v1/account/password",
            {"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD},
            format="json",
        )
    assert response.status_code == 204
    assert _refresh(APIClient(), refresh).status_code == 401
    assert revoked == [(user.pk, "password_changed")]
    login = APIClient().post(
        "/api/v1/auth/login", {"email": user.email, "password": NEW_PASSWORD}, format="json"
    )
    assert login.status_code == 200


def test_api_password_change_refuses_a_wrong_current_400_or_a_weak_new_password_422(auth_client):
    wrong = auth_client.post(
        "/api/v1/account/password", {"currentPassword": "nope", "newPassword": NEW_PASSWORD}, format="json"
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["code"] == "invalid_credentials"
    weak = auth_client.post(
        "/api/v1/account/password", {"currentPassword": PASSWORD, "newPassword": "password123"}, format="json"
    )
    assert weak.status_code == 422
    error = weak.json()["error"]
    assert error["code"] == "weak_password" and "too common" in " ".join(
        error["details"]["fields"]["newPassword"]
    )
    auth_client.user.refresh_from_db()
    assert auth_client.user.check_password(PASSWORD)


def test_page_password_change_keeps_this_session_and_ends_the_others(user):
    here, elsewhere = Client(), Client()
    for client in (here, elsewhere):
        client.post("/account/login/", {"username": user.email, "password": PASSWORD})
        assert client.get("/account/").status_code == 200
    response = here.post(
        "/account/password/",
        {"current_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 302
    assert here.get("/account/").status_code == 200
    assert elsewhere.get("/account/").status_code == 302  # sent to sign in


def test_page_password_change_shows_errors_as_form_errors(client, user):
    client.force_login(user)
    response = client.post(
        "/account/password/",
        {"current_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert response.status_code == 200 and "not right" in response.content.decode()
    response = client.post(
        "/account/password/",
        {"current_password": PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert response.status_code == 200 and "too common" in response.content.decode()
    assert "Change password" in client.get("/account/").content.decode()


# --- password reset by e-mail ---------------------------------------------------------------------
def test_password_reset_by_email_sets_a_new_password_once(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True  # the task runs here (with a broker: the worker sends it)
    assert "Forgot your password?" in client.get("/account/login/").content.decode()
    with django_capture_on_commit_callbacks(execute=True):  # the mail leaves after commit (the outbox)
        response = client.post("/account/password/reset/", {"email": user.email.upper()})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/done/"
    assert len(mail.outbox) == 1 and mail.outbox[0].to == [user.email]
    assert mail.outbox[0].from_email == django_settings.DEFAULT_FROM_EMAIL
    link = re.search(r"https?://[^/]+(/account/password/reset/\S+/)", mail.outbox[0].body).group(1)

    form_page = client.get(link, follow=True)
    assert form_page.status_code == 200 and form_page.context["validlink"]
    _, refresh = _signed_in(user)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        )
    assert done.status_code == 302 and done["Location"] == "/account/password/reset/complete/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert _refresh(APIClient(), refresh).status_code == 401
    assert Client().get(link, follow=True).context["validlink"] is False  # used once


def test_password_reset_says_the_same_for_an_unknown_address(client):
    response = client.post("/account/password/reset/", {"email": "nobody@example.com"})
    assert response.status_code == 302 and response["Location"] == "/account/password/reset/done/"
    assert mail.outbox == []


def test_password_reset_requests_are_limited_per_address(
    client, user, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_PER_HOUR = 2
    settings.CELERY_TASK_ALWAYS_EAGER = True
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            assert client.post("/account/password/reset/", {"email": user.email}).status_code == 302
    refused = client.post("/account/password/reset/", {"email": user.email})
    assert refused.status_code == 200 and "Too many password reset requests" in refused.content.decode()
    assert len(mail.outbox) == 2
    other = client.post("/account/password/reset/", {"email": user.email}, REMOTE_ADDR="10.9.9.9")
    assert other.status_code == 302


# --- register uses Django's validators ------------------------------------------------------------
def test_register_refuses_a_common_password_on_both_doors(api_client, client):
    api = api_client.post(
        "/api/v1/auth/register", {"email": "a@example.com", "password": "password123"}, format="json"
    )
    assert api.status_code == 422 and "too common" in api.json()["error"]["message"]
    assert api.json()["error"]["code"] == "weak_password"
    page = client.post(
        "/account/register/",
        {"email": "b@example.com", "password1": "password123", "password2": "password123"},
    )
    assert page.status_code == 200 and "too common" in page.content.decode()


# --- deactivation and page sign-out ---------------------------------------------------------------
def test_deactivation_by_the_service_or_the_admin_revokes_credentials(
    client, settings, django_capture_on_commit_callbacks, revoked
):
    settings.ADMIN_MFA_REQUIRED = False
    shopper = UserFactory()
    _, refresh = _signed_in(shopper)
    with django_capture_on_commit_callbacks(execute=True):
        user_deactivate(user=shopper)
    assert revoked == [(shopper.pk, "deactivated")]
    assert _refresh(APIClient(), refresh).status_code == 401

    other = UserFactory()
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    form = client.get(f"/admin/accounts/user/{other.pk}/change/").context["adminform"].form
    skipped = {"password", "groups", "user_permissions", "last_login", "is_active"}  # unticked: inactive
    data = {name: value for name, value in form.initial.items() if value is not None and name not in skipped}
    data.update(email=other.email, name=other.name, date_joined_0="2026-01-01", date_joined_1="00:00:00")
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/accounts/user/{other.pk}/change/", data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    other.refresh_from_db()
    assert not other.is_active
    assert revoked[-1] == (other.pk, "deactivated")


def test_page_logout_clears_site_data(client, user):
    client.force_login(user)
    response = client.post("/account/logout/")
    assert response.status_code == 302
    assert response["Clear-Site-Data"] == '"cache", "storage"'
    assert client.get("/account/").status_code == 302
