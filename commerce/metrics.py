"""Prometheus plumbing shared by every process: what ``/metrics`` exports, and the worker's exporter.

- Counters and histograms are plain ``prometheus_client`` metrics defined next to their code
  (``orders/metrics.py``, ``voice/metrics.py``, ``conversations/assistant/metrics.py``, ...). Under
  gunicorn (several worker processes) or the Celery worker (a prefork pool) ``PROMETHEUS_MULTIPROC_DIR``
  is set: each process writes its values to files there, and :func:`metrics_registry` reads them all
  back, so a scrape sees the sum over every process, whichever process answers (prometheus_client's
  multiprocess mode). ``deploy/gunicorn.conf.py`` and :func:`connect_worker_metrics` mark dead
  processes so their gauges go away; counters of dead processes keep counting, as they should.
- Gauges read from the database or the broker at scrape time (voice backlog, Celery queue length, ...)
  cannot live in those files: they register with :func:`scrape_gauge` and are computed by whichever
  process answers the scrape, in either mode.
- :func:`connect_worker_metrics`: the Celery worker serves its own ``/metrics`` on
  ``CELERY_METRICS_PORT`` (empty or 0: none), behind ``METRICS_TOKEN`` like the site's, and
  ``/health/live`` there for the container's liveness check.
"""

from __future__ import annotations

import hmac
import logging
import math
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, CollectorRegistry, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.registry import Collector

logger = logging.getLogger(__name__)

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess_mode() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class ScrapeGauges(Collector):
    """Gauges computed when scraped: ``name -> (help, read)``; a reading that fails is NaN (unknown)."""

    def __init__(self) -> None:
        self._gauges: dict[str, tuple[str, Callable[[], float]]] = {}

    def add(self, name: str, documentation: str, read: Callable[[], float]) -> None:
        self._gauges[name] = (documentation, read)

    def collect(self) -> Iterator[Metric]:
        for name, (documentation, read) in sorted(self._gauges.items()):
            try:
                value = float(read())
            except Exception as exc:  # noqa: BLE001  (a broken reading must not break the scrape)
                logger.warning("metrics: %s unreadable: %s", name, exc)
                value = math.nan
            yield GaugeMetricFamily(name, documentation, value=value)


SCRAPE_GAUGES = ScrapeGauges()
REGISTRY.register(SCRAPE_GAUGES)


def scrape_gauge(name: str, documentation: str) -> Callable[[Callable[[], float]], Callable[[], float]]:
    """Decorator: ``read()`` becomes the value of gauge ``name`` at each scrape (any process mode)."""

    def register(read: Callable[[], float]) -> Callable[[], float]:
        SCRAPE_GAUGES.add(name, documentation, read)
        return read

    return register


def metrics_registry() -> CollectorRegistry:
    """What a scrape of this process exports: every process's files in multiprocess mode, else this
    process's own registry; the scrape-time gauges either way."""
    if not multiprocess_mode():
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    registry.register(SCRAPE_GAUGES)
    return registry


def metrics_text() -> bytes:
    return generate_latest(metrics_registry())


def token_allows(authorization: str, expected: str) -> bool:
    """True when no token is configured, or ``authorization`` is ``Bearer <expected>``."""
    if not expected:
        return True
    scheme, _, token = authorization.partition(" ")
    given = token.strip() if scheme.lower() == "bearer" else ""
    return hmac.compare_digest(given.encode(), expected.encode())


# --- The Celery worker's exporter ------------------------------------------------------------------
def exporter_app(token: str) -> Callable[..., Iterable[bytes]]:
    """A WSGI app answering ``GET /metrics`` (bearer ``token`` when set) with :func:`metrics_text`, and
    ``GET /health/live`` (no token: it tells nothing) for the container's liveness check: the worker's
    main process answers, whatever the broker's state (a Redis outage must not get it restarted)."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        if environ.get("PATH_INFO") == "/health/live":
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"status": "ok"}']
        if environ.get("PATH_INFO") != "/metrics":
            start_response("404 Not Found", [("Content-Type", "text/plain")])
            return [b"Not found.\n"]
        if not token_allows(environ.get("HTTP_AUTHORIZATION", ""), token):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"A valid metrics token is required.\n"]
        start_response("200 OK", [("Content-Type", CONTENT_TYPE_LATEST)])
        return [metrics_text()]

    return app


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002  (the base class's name)
        """Scrapes every 15 s would flood the worker's log; failures show up in Prometheus instead."""


def exporter_start(*, port: int, token: str, host: str = "0.0.0.0") -> WSGIServer:  # noqa: S104  # nosec B104
    """Serves :func:`exporter_app` on ``host:port`` from a daemon thread; returns the server."""
    server = make_server(host, port, exporter_app(token), handler_class=_QuietHandler)
    threading.Thread(target=server.serve_forever, name="metrics-exporter", daemon=True).start()
    logger.info("metrics: worker exporter on %s:%s/metrics", host, server.server_port)
    return server


# The exporter this process started, if any (one in a worker; a test shuts it down).
WORKER_EXPORTERS: list[WSGIServer] = []


def connect_worker_metrics(app: object) -> None:
    """Starts the worker's exporter in the main worker process, and marks pool children dead on exit.

    Called from ``commerce/celery.py``; only the ``celery worker`` command fires these signals.
    """
    from celery.signals import worker_process_shutdown, worker_ready
    from django.conf import settings

    def start_exporter(**_: object) -> None:
        port = settings.CELERY_METRICS_PORT
        if port:
            WORKER_EXPORTERS.append(exporter_start(port=port, token=settings.METRICS_TOKEN))

    def mark_dead(pid: int | None = None, **_: object) -> None:
        if multiprocess_mode():
            multiprocess.mark_process_dead(pid or os.getpid())

    worker_ready.connect(start_exporter, weak=False, dispatch_uid="commerce.metrics.exporter")
    worker_process_shutdown.connect(mark_dead, weak=False, dispatch_uid="commerce.metrics.mark_dead")
