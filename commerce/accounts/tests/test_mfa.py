"""Staff MFA (issue 12, item 1): with ADMIN_MFA_REQUIRED a password alone reaches no admin URL."""

from __future__ import annotations

import base64
import re
from io import StringIO

import pytest
from django.contrib import admin
from django.core.management import CommandError, call_command
from django.urls import URLPattern, URLResolver, reverse
from django_otp import user_has_device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def mfa_required(settings):
    settings.ADMIN_MFA_REQUIRED = True
    return settings


@pytest.fixture
def staff():
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def _code(device: TOTPDevice, *, offset: int = 0) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = totp.time + offset * device.step
    return f"{totp.token():0{device.digits}d}"


def _admin_login(user, code: str) -> dict[str, str]:
    return {"username": user.email, "password": PASSWORD, "otp_token": code}


def _admin_paths() -> list[str]:
    """Every URL of the admin site: each ModelAdmin's own (changelist, add, change, history, delete and
    its custom views, with 1 for each argument), each app index, and the site's views."""
    paths: list[str] = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern):
                paths.append(route)

    walk(admin.site.get_urls(), "/admin/")
    labels = sorted({model._meta.app_label for model in admin.site._registry})
    concrete: list[str] = []
    for route in paths:
        route = route.lstrip("^").replace("$", "")
        if "(?P<app_label>" in route:
            concrete += [re.sub(r"\(\?P<app_label>[^)]*\)", label, route) for label in labels]
            continue
        concrete.append(re.sub(r"<[^>]+>", "1", route))
    return [p for p in concrete if p not in (reverse("admin:login"), reverse("admin:logout"))]


def test_a_password_alone_reaches_no_admin_url_when_mfa_is_required(client, mfa_required, staff):
    client.force_login(staff)  # a password sign-in: the session is not verified with a device
    paths = _admin_paths()
    for model in admin.site._registry:
        info = (model._meta.app_label, model._meta.model_name)
        assert reverse("admin:{}_{}_changelist".format(*info)) in paths
    assert reverse("admin:index") in paths and len(paths) > 40
    login = reverse("admin:login")
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302, path
        assert response["Location"].startswith(f"{login}?next="), (path, response["Location"])


def test_enrol_then_verify_then_the_admin_works(client, mfa_required, staff):
    client.post("/account/login/", {"username": staff.email, "password": PASSWORD})
    page = client.get("/account/mfa/")
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body and "style=" not in body.split("<svg", 1)[1].split("</svg>", 1)[0]
    device = TOTPDevice.objects.get(user=staff, confirmed=False)
    assert base64.b32encode(device.bin_key).decode() in body  # the key as text for typing by hand

    done = client.post("/account/mfa/", {"token": _code(device)})
    assert done.status_code == 200
    codes = done.context["codes"]
    assert len(codes) == 10 and all(code in done.content.decode() for code in codes)
    assert client.get("/admin/").status_code == 200  # this session was verified by the enrolment

    # A fresh sign-in to the admin needs the password and a code.
    other = client.__class__()
    refused = other.post("/admin/login/", {"username": staff.email, "password": PASSWORD, "otp_token": ""})
    assert refused.status_code == 200 and other.get("/admin/").status_code == 302
    device.refresh_from_db()
    ok = other.post(
        "/admin/login/",
        {"username": staff.email, "password": PASSWORD, "otp_token": _code(device, offset=1)},
    )
    assert ok.status_code == 302, ok.context["form"].errors
    assert other.get("/admin/").status_code == 200


def test_a_wrong_code_is_refused_at_enrolment_and_at_sign_in(client, mfa_required, staff):
    client.post("/account/login/", {"username": staff.email, "password": PASSWORD})
    client.get("/account/mfa/")
    device = TOTPDevice.objects.get(user=staff)
    wrong = "000000" if _code(device) != "000000" else "111111"
    page = client.post("/account/mfa/", {"token": wrong})
    assert page.status_code == 200 and "not right" in page.content.decode()
    assert not user_has_device(staff)
    assert client.get("/admin/").status_code == 302

    device.confirmed = True
    device.save()
    other = client.__class__()
    response = other.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD, "otp_token": wrong}
    )
    assert response.status_code == 200 and response.context["form"].errors
    assert other.get("/admin/").status_code == 302
    # both refusals are in the audit trail: the enrolment's and the sign-in's
    from commerce.audit.models import AuditEvent

    recorded = set(AuditEvent.objects.filter(actor=staff).values_list("action", flat=True))
    assert {"mfa.enrolment_failed", "mfa.sign_in_failed"} <= recorded


def test_a_backup_code_signs_in_once(client, mfa_required, staff):
    client.post("/account/login/", {"username": staff.email, "password": PASSWORD})
    client.get("/account/mfa/")
    device = TOTPDevice.objects.get(user=staff)
    code = client.post("/account/mfa/", {"token": _code(device)}).context["codes"][0]

    first = client.__class__()
    signed_in = first.post(
        "/admin/login/", {"username": staff.email, "password": PASSWORD, "otp_token": code}
    )
    assert signed_in.status_code == 302 and first.get("/admin/").status_code == 200
    assert not StaticToken.objects.filter(token=code).exists()

    second = client.__class__()
    again = second.post("/admin/login/", _admin_login(staff, code))
    assert again.status_code == 200 and second.get("/admin/").status_code == 302


def test_replacing_a_device_needs_a_verified_session(client, mfa_required, staff):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    client.post("/account/login/", {"username": staff.email, "password": PASSWORD})
    response = client.get("/account/mfa/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("admin:login"))
    assert TOTPDevice.objects.filter(user=staff).count() == 1


def test_shoppers_have_no_enrolment_page(client):
    shopper = UserFactory()
    client.force_login(shopper)
    assert client.get("/account/mfa/").status_code == 403


def test_without_mfa_required_the_admin_takes_a_password_and_links_to_enrolment(client, settings, staff):
    settings.ADMIN_MFA_REQUIRED = False
    response = client.post("/admin/login/", {"username": staff.email, "password": PASSWORD})
    assert response.status_code == 302
    index = client.get("/admin/")
    assert index.status_code == 200 and reverse("accounts:mfa-enrol") in index.content.decode()
    assert "Set up an authenticator app" in index.content.decode()


def test_mfa_reset_removes_the_staff_members_devices(staff):
    TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)
    out = StringIO()
    call_command("mfa_reset", "STAFF@example.com", stdout=out)
    assert not user_has_device(staff, confirmed=None)
    assert "Removed 1" in out.getvalue()
    with pytest.raises(CommandError):
        call_command("mfa_reset", "nobody@example.com", stdout=StringIO())
