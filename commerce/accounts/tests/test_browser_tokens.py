"""The access-token page in headless Chromium: make a token (HTMX), use it on the API, revoke it."""

from __future__ import annotations

import re

import httpx
import pytest

from commerce.accounts.models import PersonalAccessToken
from commerce.accounts.tests.factories import PASSWORD, UserFactory

pytest_plugins = ["commerce.testing.browser"]
pytestmark = pytest.mark.browser


def test_shopper_makes_a_token_sees_it_once_uses_it_and_revokes_it(browser_page, asgi_live_server):
    user = UserFactory(email="ada@example.com")
    page = browser_page
    page.goto("/account/login/?next=/account/tokens/")
    page.get_by_label("E-mail").fill(user.email)
    page.locator("input[name=password]").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r"/account/tokens/$"))

    page.get_by_label("Name").fill("Claude Desktop")
    page.get_by_role("checkbox", name=re.compile(r"^Cart")).check()
    page.get_by_role("button", name="Create token").click()
    secret = page.locator("#new-token-secret").inner_text().strip()
    assert secret.startswith("pat_")
    assert page.url.endswith("/account/tokens/")  # HTMX swapped the section in place
    assert PersonalAccessToken.objects.get(user=user).scopes == ["read", "cart"]

    api = f"{asgi_live_server.url}/api/v1/cart"
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 200

    page.reload()
    assert secret not in page.content()  # shown once
    page.get_by_role("button", name="Revoke Claude Desktop").click()
    page.get_by_text("Revoked Claude Desktop.").wait_for()
    assert PersonalAccessToken.objects.get(user=user).revoked_at is not None
    assert httpx.get(api, headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert page.watch.problems() == []
