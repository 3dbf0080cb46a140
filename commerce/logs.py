"""Structured logs (structlog through the standard library, django-structlog for requests and Celery).

Every log line, ours or a library's, goes through one ``ProcessorFormatter``: JSON in production
(``LOG_FORMAT=json``), coloured-free key=value lines in the embedded run (``LOG_FORMAT=console``).
Each line carries the context bound for the work it belongs to:

- ``request_id``: the request's ``X-Request-ID`` when it is a sane token (letters, digits, ``._:-``, at
  most 64), else a new UUID; returned on every response as ``X-Request-ID``;
- ``user_id``: the signed-in user (session or, for the API, JWT / access token once DRF authenticated);
- ``session_id``: a digest of the shopper session id (the id itself is a bearer credential for a guest
  cart, so it is never logged).

The same context goes with the chat socket (bound for the consumer's lifetime), into the outbox rows
and the headers of Celery tasks started by the request (django-structlog's publish receiver), and is
bound again in the worker while the task runs.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Callable
from typing import Any

import structlog
from django.http import HttpRequest, HttpResponse
from django_structlog import signals as structlog_signals

REQUEST_ID_HEADER = "X-Request-ID"
_SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

SHARED_PROCESSORS: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    structlog.stdlib.ExtraAdder(),
]


def _renderer(fmt: str) -> Any:
    if fmt == "json":
        return structlog.processors.JSONRenderer()
    # Plain tracebacks: readable in a terminal and cheap (no rich rendering of every local variable).
    return structlog.dev.ConsoleRenderer(colors=False, exception_formatter=structlog.dev.plain_traceback)


def formatter_config(fmt: str) -> dict[str, Any]:
    """A ``logging.config`` formatter entry rendering every record as ``fmt`` (json or console)."""
    return {
        "()": structlog.stdlib.ProcessorFormatter,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info if fmt == "json" else structlog.dev.set_exc_info,
            _renderer(fmt),
        ],
        "foreign_pre_chain": SHARED_PROCESSORS,
    }


def logging_config(*, fmt: str, level: str) -> dict[str, Any]:
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": formatter_config("json"), "console": formatter_config("console")},
        "handlers": {"console": {"class": "logging.StreamHandler", "formatter": fmt}},
        "root": {"handlers": ["console"], "level": level},
        "loggers": {
            "django.db.backends": {"level": "WARNING"},
            # django-structlog's request_started/request_finished carry what django.server would.
            "django.server": {"level": "WARNING"},
        },
    }


def configure_structlog() -> None:
    """structlog's own loggers hand their events to the standard library (and so to the formatter)."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.filter_by_level,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.add_log_level,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


# --- what is bound -----------------------------------------------------------------------------


def request_id_from(raw: str | None) -> str:
    """The caller's request id when it is a sane token, else a new one (never a log-injection vector)."""
    raw = (raw or "").strip()
    return raw if _SANE_REQUEST_ID.match(raw) else str(uuid.uuid4())


def session_digest(session_key: str) -> str:
    """What logs say of a shopper session: enough to correlate, useless to take over a guest cart."""
    return hashlib.sha256(session_key.encode()).hexdigest()[:16] if session_key else ""


def bind_user(user: Any) -> None:
    if getattr(user, "is_authenticated", False):
        structlog.contextvars.bind_contextvars(user_id=user.pk)


def bind_shopper(user: Any, session_key: str) -> None:
    """Called wherever a request or socket learns who the shopper is (commerce.accounts.shoppers)."""
    bind_user(user)
    if session_key:
        structlog.contextvars.bind_contextvars(session_id=session_digest(session_key))


def _on_request_started(sender: Any, request: HttpRequest, **kwargs: Any) -> None:
    # django-structlog trusts the header as it is (DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID); keep it
    # only when it is a sane token.
    request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
    request.request_id = request_id  # type: ignore[attr-defined]
    structlog.contextvars.bind_contextvars(request_id=request_id)


def _put_request_id(request: HttpRequest, response: HttpResponse) -> None:
    request_id = getattr(request, "request_id", "")
    if request_id:
        response[REQUEST_ID_HEADER] = request_id


def _on_request_finished(sender: Any, request: HttpRequest, response: HttpResponse, **kwargs: Any) -> None:
    _put_request_id(request, response)


def _on_failure_response(sender: Any, request: HttpRequest, response: HttpResponse, **kwargs: Any) -> None:
    _put_request_id(request, response)


structlog_signals.bind_extra_request_metadata.connect(_on_request_started, dispatch_uid="commerce.logs.start")
structlog_signals.bind_extra_request_finished_metadata.connect(
    _on_request_finished, dispatch_uid="commerce.logs.finish"
)
structlog_signals.update_failure_response.connect(_on_failure_response, dispatch_uid="commerce.logs.fail")


class RequestUserMiddleware:
    """Binds the signed-in (session) user for the rest of the request; after AuthenticationMiddleware.

    DRF's token users are bound by the API throttle, the first thing that runs once DRF has
    authenticated a request (``commerce.throttling``); the shopper session where the shopper is resolved.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        bind_user(getattr(request, "user", None))
        return self.get_response(request)
