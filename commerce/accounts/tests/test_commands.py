"""``manage.py ensure_demo_admin``: what `make run` uses so a fresh machine has a staff login."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.http import HttpRequest

from commerce.accounts.models import User

pytestmark = pytest.mark.django_db


def test_the_demo_admin_is_created_once_and_can_sign_in_to_the_admin(client, settings):
    # What `make run` is (the refusal elsewhere is tested below): embedded, so no MFA step for the admin.
    settings.EMBEDDED, settings.ADMIN_MFA_REQUIRED = True, False
    out = StringIO()
    call_command("ensure_demo_admin", stdout=out)
    call_command("ensure_demo_admin", stdout=out)  # `make run` runs it every time
    assert User.objects.filter(email="admin@example.com").count() == 1
    admin = User.objects.get(email="admin@example.com")
    assert admin.is_staff and admin.is_superuser
    assert out.getvalue().splitlines() == [
        "Created demo staff account admin@example.com / AdminPass123!",
        "Demo staff account: admin@example.com / AdminPass123!",
    ]
    assert client.login(request=HttpRequest(), email="admin@example.com", password="AdminPass123!")
    assert client.get("/admin/").status_code == 200


def test_an_existing_account_is_left_as_it_is(client, settings):
    settings.EMBEDDED = True
    User.objects.create_user(email="admin@example.com", password="changed-by-staff-1")
    call_command("ensure_demo_admin", stdout=StringIO())
    assert client.login(request=HttpRequest(), email="admin@example.com", password="changed-by-staff-1")


def test_the_demo_admin_is_refused_on_a_production_shaped_site(settings):
    settings.EMBEDDED, settings.DEBUG = False, False
    with pytest.raises(CommandError, match="createsuperuser"):
        call_command("ensure_demo_admin", stdout=StringIO())
    assert not User.objects.filter(email="admin@example.com").exists()


def test_the_demo_admin_is_made_on_a_production_shaped_site_only_when_asked_with_demo(settings):
    settings.EMBEDDED, settings.DEBUG = False, False
    call_command("ensure_demo_admin", "--demo", stdout=StringIO())
    assert User.objects.get(email="admin@example.com").is_superuser


def test_the_demo_admin_is_made_in_a_debug_run_with_a_database_server(settings):
    settings.EMBEDDED, settings.DEBUG = False, True
    call_command("ensure_demo_admin", stdout=StringIO())
    assert User.objects.filter(email="admin@example.com").exists()
