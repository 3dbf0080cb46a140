"""Headless Chromium for browser tests; a pytest plugin: ``pytest_plugins = ["commerce.testing.browser"]``

Playwright's Python package drives Debian's ``/usr/bin/chromium`` (Playwright's own browser download
cannot work offline). ``make test`` installs the package through apt when it is missing and it runs
as root; where Chromium is still absent the browser tests are skipped with the reason.

Fixtures:
- ``chromium``: a launched Chromium (one per test; Playwright gives every launch a fresh temporary
  profile, so no cookies or cache leak between tests).
- ``browser_page``: a desktop-sized page whose relative URLs resolve against ``asgi_live_server``
  (Daphne in a thread of the test process, see ``commerce.testing.asgi_server``, so the chat panel's
  WebSocket connects); it records JavaScript errors, console errors, failed same-origin requests and
  a chat socket that fails to connect (see ``PageWatch``), and any of them fails the test at teardown
  even when the test never asserted ``page.watch.problems() == []``.
- ``open_browser_page(viewport=PHONE)``: more pages, e.g. a phone-sized one for the responsive layout.

``screenshot(page, name)`` saves a full-page PNG to ``test-artifacts/browser/<name>.png`` (git-ignored).

Why ``DJANGO_ALLOW_ASYNC_UNSAFE`` is set while a browser is open: Playwright's sync API parks its
asyncio loop in a greenlet of the test thread, so ``asyncio.get_running_loop()`` answers even while
plain test code runs, and Django's ORM would refuse every query with SynchronousOnlyOperation. That
loop serves nothing while the test thread runs (Playwright only drives it inside its own calls), so
blocking database calls cannot stall it; the variable is set for the browser's lifetime only and
restored afterwards, so the rest of the suite keeps Django's guard. (It is process-wide, so the ASGI
live server's threads run without the guard meanwhile; the Channels communicator tests keep it.)
While the loop is visible, Django's connections live in a per-context store (asgiref), so a query
from the test body opens its own connection (autocommit: browser tests use ``transactional_db``
anyway); the fixture closes it.

PYTEST_DONT_REWRITE: test modules import the helpers below as well as loading this plugin, and
the module holds no assertions to rewrite.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connections

pytest_plugins = ["commerce.testing.asgi_server"]

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACT_DIR = Path(settings.BASE_DIR) / "test-artifacts" / "browser"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# Long enough for a cold live server on a busy 2-core CI machine, short enough to fail fast.
DEFAULT_TIMEOUT_MS = 15_000


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None when they can."""
    if not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
        hint = "`make browser-deps` installs it (apt-get install chromium, as root)"
        return f"Chromium not found at {CHROMIUM_PATH}; {hint}"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed (pip install -e '.[dev]')"
    return None


_LOAD_ALL_IMAGES = """() => {
  document.querySelectorAll("img[loading=lazy]").forEach((img) => { img.loading = "eager"; });
  return Promise.all([...document.images].filter((img) => !img.complete).map(
    (img) => new Promise((done) => { img.onload = done; img.onerror = done; })
  ));
}"""


def screenshot(page, name: str, *, full_page: bool = True) -> Path:
    """Saves a PNG of ``page`` as ``test-artifacts/browser/<name>.png`` and returns its path.

    ``full_page=False`` keeps only what the viewport shows (a phone's first screen, say).
    """
    ARTIFACT_DIR.mkdir(parents=True, exist_ok=True)
    path = ARTIFACT_DIR / f"{name}.png"
    # A full-page shot does not scroll, so lazy images below the fold would show as empty boxes.
    page.evaluate(_LOAD_ALL_IMAGES)
    page.screenshot(path=str(path), full_page=full_page)
    return path


@dataclass
class PageWatch:
    """What went wrong in a page that a screenshot would not show: script errors and broken links.

    The chat panel's socket (``/ws/chat/``) is watched like any request: the pages are served by an
    ASGI server, so a socket that cannot connect (refused origin, consumer error) fails the test.
    """

    origin: str
    js_errors: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)

    def attach(self, page) -> None:
        page.on("pageerror", lambda error: self.js_errors.append(str(error)))
        page.on("console", self._on_console)
        page.on("response", self._on_response)
        page.on("requestfailed", self._on_request_failed)

    def _on_console(self, message) -> None:
        # "Failed to load resource" repeats a network failure without its URL; the response and
        # requestfailed listeners record those with the URL. (Chromium's own /favicon.ico probe
        # reaches neither listener.) A failed WebSocket reaches neither, so its console error counts.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.js_errors.append(message.text)

    def _same_origin(self, url: str) -> bool:
        return urlsplit(url)[:2] == urlsplit(self.origin)[:2]

    def _on_response(self, response) -> None:
        if response.status >= 400 and self._same_origin(response.url):
            self.failed_requests.append(f"{response.status} {response.request.method} {response.url}")

    def _on_request_failed(self, request) -> None:
        # A navigation away cancels requests still in flight; that is not a broken page.
        if self._same_origin(request.url) and request.failure != "net::ERR_ABORTED":
            self.failed_requests.append(f"{request.failure} {request.method} {request.url}")

    def problems(self) -> list[str]:
        return [*(f"script error: {e}" for e in self.js_errors), *self.failed_requests]


def pytest_runtest_setup(item: pytest.Item) -> None:
    # Skip before any fixture runs: no point loading a catalog for a browser that is not there.
    if item.get_closest_marker("browser") is not None:
        reason = chromium_missing_reason()
        if reason:
            pytest.skip(reason)


@pytest.fixture
def chromium() -> Iterator[object]:
    reason = chromium_missing_reason()
    if reason:
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see the module docstring
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS
            )
            try:
                yield browser
            finally:
                # While Playwright's loop is visible, asgiref keeps Django's connections per context,
                # not per thread: queries made by the test meanwhile opened a second connection that
                # the thread's normal cleanup never sees. Close it now, or PostgreSQL refuses to drop
                # the test database ("is being accessed by other users").
                connections.close_all()
                browser.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def open_browser_page(chromium, asgi_live_server) -> Iterator[Callable[..., object]]:
    """Opens pages on the ASGI live server; each page has a ``watch`` (:class:`PageWatch`) attribute."""
    contexts, pages = [], []

    def open_page(viewport: dict[str, int] | None = None, **context_options):
        context = chromium.new_context(
            base_url=asgi_live_server.url,
            viewport=viewport or DESKTOP,
            locale="en-US",
            timezone_id="UTC",
            **context_options,
        )
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.watch = PageWatch(origin=asgi_live_server.url)
        page.watch.attach(page)
        pages.append(page)
        return page

    yield open_page
    # Read before closing: a test that forgot to look, or a problem after its last look, still fails.
    problems = [problem for page in pages for problem in page.watch.problems()]
    for context in contexts:
        context.close()
    if problems:
        pytest.fail("the browser reported problems:\n" + "\n".join(problems), pytrace=False)


@pytest.fixture
def browser_page(open_browser_page):
    """A desktop-sized page on the live server (relative ``goto`` URLs work)."""
    return open_browser_page()


DEMO_CATALOG = Path(settings.BASE_DIR) / "catalog" / "demo" / "demo_catalog.json"


@pytest.fixture
def demo_catalog(transactional_db) -> int:
    """The committed demo catalog, loaded through the real importer; returns the number of products.

    ``transactional_db`` because the live server answers from another thread, which only sees
    committed rows; pytest-django empties the tables again after the test.
    """
    from catalog.services import catalog_import

    records = json.loads(DEMO_CATALOG.read_text(encoding="utf-8"))
    return catalog_import(records=records).products_created
