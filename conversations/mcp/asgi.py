"""``/mcp``: the door in front of the SDK's streamable-HTTP session manager, mounted in ``commerce.asgi``.

Before the SDK sees a request the door checks what Django's middleware checks for every other page
(it is not behind Django here): the ``Host`` against ``ALLOWED_HOSTS`` and a browser's ``Origin``
against the site's own origins (a DNS-rebinding page must not drive a shopper's local agent session),
the personal access token (401 ``invalid_token``), and the same per-client rate limit as the API
(429 ``rate_limited`` with ``Retry-After``). The checked token rides on the ASGI scope to the handlers.

The SDK's session manager needs a running task group; neither Daphne nor Channels' router runs an ASGI
lifespan, so the door starts the manager on its first request, in a task of the server's event loop
that lives as long as the loop. MCP sessions live in this process's memory: behind several processes,
route ``/mcp`` to one of them or pin a client to one (a sticky load balancer) -- documented in
docs/agents.md. What a session holds that matters (the cart) is in the database regardless.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit

from channels.db import database_sync_to_async
from django.conf import settings
from django.http.request import split_domain_port, validate_host
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager

from commerce.accounts.authentication import bearer_secret
from commerce.accounts.models import PersonalAccessToken
from commerce.accounts.services import access_token_find
from commerce.errors import DomainError, error_body, send_asgi_error
from commerce.ratelimit import client_address, client_for, rate_check
from conversations.mcp.server import TOKEN_SCOPE_KEY, build_server

Scope = dict[str, Any]
Refusal = tuple[int, dict[str, Any], dict[str, str]]  # status, the contract's error body, headers


class _HeadersOnly:
    """What DRF's ``get_ident`` reads of a request (``META``), built from an ASGI scope."""

    def __init__(self, scope: Scope) -> None:
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        client = scope.get("client") or ("", 0)
        self.META = {"REMOTE_ADDR": client[0], "HTTP_X_FORWARDED_FOR": headers.get("x-forwarded-for")}
        self.META = {k: v for k, v in self.META.items() if v is not None}
        self.headers = headers


def _origin_allowed(origin: str) -> bool:
    if origin in settings.CORS_ALLOWED_ORIGINS:
        return True
    host = urlsplit(origin).netloc
    domain, _port = split_domain_port(host)
    return bool(domain) and validate_host(domain, settings.ALLOWED_HOSTS)


def _refusal(request: _HeadersOnly) -> Refusal | None:
    domain, _port = split_domain_port(request.headers.get("host", ""))
    if not domain or not validate_host(domain, settings.ALLOWED_HOSTS):
        return 400, error_body("bad_host", "This host is not served here."), {}
    origin = request.headers.get("origin")
    if origin and not _origin_allowed(origin):
        return 403, error_body("forbidden", "Requests from this origin are not allowed."), {}
    return None


def _authenticated(request: _HeadersOnly) -> PersonalAccessToken | None:
    """The caller's token (None for a guest); a bad one raises ``InvalidAccessToken``."""
    authorization = request.headers.get("authorization", "")
    if not authorization:
        return None
    secret = bearer_secret(authorization)
    if secret is None:
        return access_token_find(secret="")  # a JWT or anything else: /mcp takes personal tokens only
    return access_token_find(secret=secret)


def _admitted(request: _HeadersOnly) -> tuple[PersonalAccessToken | None, Refusal | None]:
    refusal = _refusal(request)
    if refusal is not None:
        return None, refusal
    try:
        token = _authenticated(request)
    except DomainError as exc:
        return None, (exc.status_code, error_body(exc.code, exc.message), {"WWW-Authenticate": "Bearer"})
    decision = rate_check(client_for(token.user if token else None, client_address(request)))  # type: ignore[arg-type]
    if not decision.allowed:
        message = f"Too many requests: try again in {decision.retry_after} seconds."
        body = error_body("rate_limited", message, {"retryAfter": decision.retry_after})
        return token, (429, body, {"Retry-After": str(decision.retry_after)})
    return token, None


class McpApplication:
    """The ASGI application ``commerce.asgi`` routes ``/mcp`` to."""

    def __init__(self) -> None:
        self._manager: StreamableHTTPSessionManager | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: asyncio.Task[None] | None = None
        self._start_lock: asyncio.Lock | None = None

    async def _running_manager(self) -> StreamableHTTPSessionManager:
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # first request (or a test's new loop): a manager of this loop's own
            self._loop, self._manager, self._runner, self._start_lock = loop, None, None, asyncio.Lock()
        assert self._start_lock is not None
        async with self._start_lock:
            if self._manager is None:
                manager = StreamableHTTPSessionManager(
                    app=build_server(),
                    session_idle_timeout=settings.MCP_SESSION_IDLE_SECONDS,
                )
                started = asyncio.Event()

                async def hold() -> None:
                    async with manager.run():
                        started.set()
                        await asyncio.Event().wait()  # until the loop ends

                self._runner = loop.create_task(hold(), name="mcp-session-manager")
                await started.wait()
                self._manager = manager
        return self._manager

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        request = _HeadersOnly(scope)
        token, refusal = await database_sync_to_async(_admitted)(request)
        if refusal is not None:
            await send_asgi_error(send, *refusal)
            return
        manager = await self._running_manager()
        await manager.handle_request({**scope, TOKEN_SCOPE_KEY: token}, receive, send)


mcp_application = McpApplication()
