import pytest

from commerce.accounts.models import User

pytestmark = pytest.mark.django_db


def test_register_page_creates_account_and_signs_in(client):
    r = client.post(
        "/account/register/",
        {
            "email": "page@example.com",
            "name": "Page",
            "password1": "SecurePass123!",
            "password2": "SecurePass123!",
        },
    )
    assert r.status_code == 302
    assert User.objects.filter(email="page@example.com").exists()
    assert client.get("/account/").status_code == 200


def test_register_page_shows_form_errors(client, user):
    r = client.post(
        "/account/register/",
        {"email": user.email, "password1": "SecurePass123!", "password2": "SecurePass123!"},
    )
    assert r.status_code == 200
    assert b"already exists" in r.content


def test_login_redirects_to_next_but_not_offsite(client, user):
    r = client.post(
        "/account/login/", {"username": user.email, "password": "SecurePass123!", "next": "/cart/"}
    )
    assert r.status_code == 302 and r["Location"] == "/cart/"
    client.logout()
    r = client.post(
        "/account/login/",
        {"username": user.email, "password": "SecurePass123!", "next": "https://evil.example/"},
    )
    assert r["Location"] == "/"


def test_account_page_rejects_bad_phone(client, user):
    client.force_login(user)
    r = client.post("/account/", {"name": "X", "phone": "12345", "timezone": "UTC"})
    assert r.status_code == 200 and b"E.164" in r.content


def test_logout_is_post_only(client, user):
    client.force_login(user)
    assert client.get("/account/logout/").status_code == 405
    assert client.post("/account/logout/").status_code == 302


def test_health_reports_every_check(client):
    r = client.get("/health")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] in ("ok", "degraded")
    assert set(body["checks"]) == {"database", "cache", "channelLayer", "celery", "llm", "voice"}
    assert body["checks"]["database"] == "ok"


def test_metrics_are_prometheus_text(client):
    r = client.get("/metrics")
    assert r.status_code == 200 and b"# HELP" in r.content
