"""gunicorn configuration for the web container (docker-compose.yml: ``gunicorn -c deploy/gunicorn.conf.py``).

Metrics: with ``PROMETHEUS_MULTIPROC_DIR`` set, every worker writes its counters to files there and
``/metrics`` sums them, whichever worker answers (``commerce/metrics.py``). The directory is emptied
when the server starts (values of a previous run must not be added again) and a worker that exits is
marked dead, so its live gauges disappear while its counts stay in the totals.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
# Recycle a worker after this many requests (0: never); a recycled worker's counts stay in the totals.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
# Access log without query strings (the nginx log is the one kept; this one says only what ran).
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'


def on_starting(server: object) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if directory:
        shutil.rmtree(directory, ignore_errors=True)
        Path(directory).mkdir(parents=True, exist_ok=True)


def child_exit(server: object, worker: object) -> None:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[attr-defined]
