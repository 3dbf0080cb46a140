"""An ASGI live server for browser tests that use the WebSocket chat: Daphne in a thread of the test process.

pytest-django's ``live_server`` is a WSGI server, so the chat panel's ``/ws/chat/`` cannot connect to
it. Channels' own ``ChannelsLiveServerTestCase`` runs Daphne in a *forked process*, which cannot see
the embedded run's in-memory SQLite test database nor its in-memory channel layer. Daphne in a thread
of this process sees both (and, in the production-shape CI pass, the same PostgreSQL test database and
Redis), so the same browser test runs in both passes.

A Twisted reactor cannot be restarted, so the server lives for the whole test session and stops when
the process ends (a daemon thread). Requests reach the database only while a test holds database
access (pytest-django's blocker is process-wide); browser tests use ``transactional_db`` so that what
the test writes is committed and visible to the server's threads, and what the server writes is
visible to the test.

Fixture: ``asgi_live_server``, the running server (``.url`` like pytest-django's ``live_server``). The
browser plugin (``commerce.testing.browser``) loads this one and opens its pages on it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from django.db import DEFAULT_DB_ALIAS, connections

START_TIMEOUT_SECONDS = 20


@dataclass
class AsgiLiveServer:
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"


_server: AsgiLiveServer | None = None
_server_lock = threading.Lock()


def _application():
    """The project's ASGI application with static files served as ``runserver`` would (no collectstatic)."""
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    from commerce.asgi import application

    return ASGIStaticFilesHandler(application)


def _start() -> AsgiLiveServer:
    # Importing daphne.server installs Twisted's asyncio reactor (a loop of its own, run by the thread).
    from daphne.server import Server

    ready = threading.Event()
    failure: list[BaseException] = []
    server = Server(
        application=_application(),
        endpoints=["tcp:port=0:interface=127.0.0.1"],
        signal_handlers=False,
        ready_callable=ready.set,
        verbosity=0,
    )

    def serve() -> None:
        try:
            server.run()
        except BaseException as exc:  # reported to the test that asked for the server
            failure.append(exc)
            ready.set()

    threading.Thread(target=serve, name="asgi-live-server", daemon=True).start()
    if not ready.wait(START_TIMEOUT_SECONDS) or failure or not server.listening_addresses:
        raise RuntimeError(f"the ASGI live server did not start: {failure or 'no listening address'}")
    host, port = server.listening_addresses[0]
    return AsgiLiveServer(host=host, port=port)


@pytest.fixture
def asgi_live_server(transactional_db, settings) -> Iterator[AsgiLiveServer]:
    """Daphne serving ``commerce.asgi`` on 127.0.0.1 (started once per session, see the module docstring)."""
    global _server
    with _server_lock:
        if _server is None:
            _server = _start()
    # The socket's origin check (commerce.origins.SiteOriginValidator) reads ALLOWED_HOSTS at each connect.
    if _server.host not in settings.ALLOWED_HOSTS:
        settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, _server.host]
    # The server's worker threads must not keep connections open past their request (as production's
    # Daphne runs, DB_CONN_MAX_AGE=0): nothing else would close them, and PostgreSQL would then refuse
    # to drop the test database. The wrappers share this dict, so the change reaches every thread. It
    # stays for the rest of the session, like the server: a socket's disconnect handler can still run
    # in a server thread after its test has ended, and must not keep a connection either.
    connections.settings[DEFAULT_DB_ALIAS]["CONN_MAX_AGE"] = 0
    yield _server
