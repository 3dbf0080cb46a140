"""Browser hardening through the HTTP door (issue 12, docs/security.md): CSP with a nonce, Permissions-Policy,
HTTPS redirect and HSTS, Secure cookies, no-store on personal pages, the CSP report endpoint and the
metrics token. What Chromium does with the policy is in test_browser_csp.py."""

from __future__ import annotations

import json
import logging
import re

import pytest
from prometheus_client import REGISTRY

from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

NONCE_IN_HEADER = re.compile(r"script-src 'self' 'nonce-([A-Za-z0-9+/=]+)'")


def _directives(response) -> dict[str, str]:
    policy = response.headers["Content-Security-Policy"]
    return {
        part.strip().split(" ", 1)[0]: part.strip().partition(" ")[2] for part in policy.split(";") if part
    }


def _production(settings) -> None:
    """The secure defaults the settings give outside the embedded run (checked in test_deploy.py)."""
    settings.SECURE_SSL_REDIRECT = True
    settings.SECURE_HSTS_SECONDS = 31_536_000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.SESSION_COOKIE_SECURE = True
    settings.CSRF_COOKIE_SECURE = True


def test_a_page_gets_a_strict_policy_and_its_scripts_carry_the_requests_nonce(client):
    response = client.get("/account/login/")
    directives = _directives(response)
    nonce = NONCE_IN_HEADER.search(response.headers["Content-Security-Policy"]).group(1)
    assert directives["script-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["style-src"] == f"'self' 'nonce-{nonce}'"
    assert directives["default-src"] == "'self'"
    assert directives["img-src"] == "'self' data:"
    assert directives["connect-src"] == "'self' ws://testserver"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["form-action"] == "'self'"
    assert directives["base-uri"] == "'none'"
    assert directives["report-uri"] == "/csp-report/"
    assert "unsafe-inline" not in response.headers["Content-Security-Policy"]
    assert "unsafe-eval" not in response.headers["Content-Security-Policy"]
    html = response.content.decode()
    scripts = re.findall(r"<script\b[^>]*>", html)
    assert len(scripts) >= 3  # htmx, its ws extension, the chat panel
    assert all(f'nonce="{nonce}"' in tag and "src=" in tag for tag in scripts), scripts
    assert not re.search(r"\son[a-z]+=", html), "inline event handlers need 'unsafe-inline'"
    assert '"allowEval": false' in html  # htmx never evaluates attribute code


def test_each_response_gets_its_own_nonce(client):
    first = NONCE_IN_HEADER.search(client.get("/account/login/").headers["Content-Security-Policy"])
    second = NONCE_IN_HEADER.search(client.get("/account/login/").headers["Content-Security-Policy"])
    assert first.group(1) != second.group(1)


def test_the_chat_socket_origin_follows_the_scheme_behind_the_tls_proxy(client, settings):
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    settings.ALLOWED_HOSTS = ["shop.example"]
    response = client.get("/account/login/", headers={"X-Forwarded-Proto": "https", "Host": "shop.example"})
    assert _directives(response)["connect-src"] == "'self' wss://shop.example"


def test_a_refused_host_gets_its_400_without_a_socket_origin(client, settings):
    settings.ALLOWED_HOSTS = ["shop.example"]
    response = client.get("/account/login/", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert _directives(response)["connect-src"] == "'self'"


def test_catalog_image_hosts_can_be_allowed(client, settings):
    directives = dict(settings.CONTENT_SECURITY_POLICY["DIRECTIVES"])
    directives["img-src"] = [*directives["img-src"], "https://images.example.com"]
    settings.CONTENT_SECURITY_POLICY = {"DIRECTIVES": directives}
    assert _directives(client.get("/account/login/"))["img-src"] == "'self' data: https://images.example.com"


def test_browser_features_the_store_does_not_use_are_refused(client):
    policy = client.get("/account/login/").headers["Permissions-Policy"]
    for feature in ("camera", "microphone", "geolocation", "payment"):
        assert f"{feature}=()" in policy


def test_plain_http_is_redirected_to_https_but_health_stays_reachable(client, settings):
    _production(settings)
    response = client.get("/products/?q=socks")
    assert response.status_code == 301
    assert response.headers["Location"] == "https://testserver/products/?q=socks"
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["checks"]["database"] == "ok"


def test_https_through_the_proxy_gets_hsts_and_secure_cookies(client, settings):
    _production(settings)
    user = UserFactory()
    over_tls = {"X-Forwarded-Proto": "https"}
    page = client.get("/account/login/", headers=over_tls)
    assert page.status_code == 200
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"] is True
    signed_in = client.post(
        "/account/login/",
        {
            "username": user.email,
            "password": PASSWORD,
            "csrfmiddlewaretoken": page.cookies[settings.CSRF_COOKIE_NAME].value,
        },
        headers=over_tls,
    )
    assert signed_in.status_code == 302
    assert signed_in.cookies[settings.SESSION_COOKIE_NAME]["secure"] is True
    assert signed_in.cookies[settings.SESSION_COOKIE_NAME]["httponly"] is True


def test_the_guest_session_id_cookie_is_secure_when_session_cookies_are(api_client, settings):
    settings.SESSION_COOKIE_SECURE = True
    response = api_client.get("/api/v1/cart")
    cookie = response.cookies["session_id"]
    assert cookie.value == response.headers["X-Session-Id"]
    assert cookie["secure"] is True and cookie["httponly"] is True and cookie["samesite"] == "Lax"


def test_a_plain_http_rig_turns_each_secure_default_off_by_its_django_name(api_client, client, settings):
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    assert api_client.get("/api/v1/cart").cookies["session_id"]["secure"] == ""
    page = client.get("/account/login/")
    assert page.status_code == 200  # SECURE_SSL_REDIRECT off: no redirect
    assert page.cookies[settings.CSRF_COOKIE_NAME]["secure"] == ""
    assert "Strict-Transport-Security" not in page.headers


@pytest.mark.parametrize(
    "path", ["/account/", "/account/memory/", "/orders/", "/checkout/", "/api/v1/account", "/api/v1/orders"]
)
def test_personal_pages_and_answers_are_never_stored(client, path):
    user = UserFactory()
    client.force_login(user)
    from rest_framework_simplejwt.tokens import RefreshToken

    token = RefreshToken.for_user(user).access_token
    response = client.get(path, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, (path, response.status_code)
    assert "no-store" in response.headers["Cache-Control"]


def test_the_catalog_stays_cacheable(client):
    response = client.get("/products/")
    assert response.status_code == 200
    assert "no-store" not in response.headers.get("Cache-Control", "")


def _reports(directive: str) -> float:
    return REGISTRY.get_sample_value("csp_violation_reports_total", {"directive": directive}) or 0.0


def test_a_csp_report_is_logged_and_counted(client, caplog):
    before = _reports("script-src-elem")
    report = {
        "csp-report": {
            "document-uri": "https://shop.example/products/",
            "effective-directive": "script-src-elem",
            "violated-directive": "script-src-elem",
            "blocked-uri": "inline",
        }
    }
    with caplog.at_level(logging.WARNING, logger="commerce.security"):
        response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert _reports("script-src-elem") == before + 1
    assert any("script-src-elem" in record.getMessage() for record in caplog.records)


def test_a_reporting_api_batch_counts_each_report(client):
    before = _reports("style-src-attr")
    batch = [
        {"type": "csp-violation", "body": {"effectiveDirective": "style-src-attr", "blockedURL": "inline"}},
        {"type": "csp-violation", "body": {"effectiveDirective": "style-src-attr", "blockedURL": "inline"}},
    ]
    response = client.post("/csp-report/", json.dumps(batch), content_type="application/reports+json")
    assert response.status_code == 204
    assert _reports("style-src-attr") == before + 2


def test_made_up_directive_names_are_counted_under_one_label(client):
    before = _reports("other")
    report = {"csp-report": {"effective-directive": "x" * 200}}
    response = client.post("/csp-report/", json.dumps(report), content_type="application/csp-report")
    assert response.status_code == 204
    assert _reports("other") == before + 1
    assert REGISTRY.get_sample_value("csp_violation_reports_total", {"directive": "x" * 200}) is None


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ('{"csp-report": {}}', "text/plain", 415),
        ("not json", "application/csp-report", 400),
        ('"a string"', "application/csp-report", 400),
        ('{"no": "report"}', "application/csp-report", 400),
        ('{"csp-report": {"effective-directive": "' + "a" * 20_000 + '"}}', "application/csp-report", 413),
    ],
)
def test_what_is_not_a_csp_report_is_refused(client, body, content_type, status):
    assert client.post("/csp-report/", body, content_type=content_type).status_code == status


def test_the_csp_report_endpoint_takes_only_post(client):
    assert client.get("/csp-report/").status_code == 405


def test_metrics_are_open_without_a_token(client, settings):
    settings.METRICS_TOKEN = ""
    response = client.get("/metrics")
    assert response.status_code == 200
    assert b"csp_violation_reports_total" in response.content


@pytest.mark.parametrize("authorization", [None, "Bearer wrong-token", "Basic c2NyYXBlOnRva2Vu", "Bearer "])
def test_metrics_refuse_a_missing_or_wrong_token(client, settings, authorization):
    settings.METRICS_TOKEN = "scrape-token-1234"
    headers = {"Authorization": authorization} if authorization else {}
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 403
    assert b"http_requests" not in response.content


def test_metrics_answer_the_right_bearer_token(client, settings):
    settings.METRICS_TOKEN = "scrape-token-1234"
    response = client.get("/metrics", headers={"Authorization": "Bearer scrape-token-1234"})
    assert response.status_code == 200
    assert b"django_http_requests" in response.content
