"""Jobs per second of one Celery worker, as docker-compose runs it: ``make bench-celery``.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce REDIS_URL=redis://127.0.0.1:6379/0 \\
        make bench-celery

Issue 14's "jobs/s per Celery worker" (docs/scaling.md). One worker process (prefork,
``--concurrency=2`` as docker-compose's ``worker``; ``BENCH_CELERY_CONCURRENCY``) on a database of its
own (``<name>_celery_bench`` on the server ``DATABASE_URL`` names, re-created every run) and the
Redis broker ``REDIS_URL`` names, consuming a queue of its own (``celery_bench``, emptied first), so a
worker of a running store on the same Redis neither takes nor loses a job.

For each kind of job, ``BENCH_CELERY_JOBS`` jobs are put in the queue before the worker starts; the
script then samples the queue's length every 10 ms and times the worker from the first job it takes
to the queue's last, and waits for the jobs' own effect to be complete (the rows they write):

- **no-op**: Celery's built-in ``celery.accumulate`` with one argument: what a job costs before any
  of the store's work (the broker round trips, the acknowledgement, the pool's hand-off). The
  yardstick: each other row is also printed as a ratio to it.
- **memory.apply_signal** (a product view): the store's most frequent job, one for every product a
  signed-in shopper views or adds to the cart; its affinities and its receipt written in one
  transaction. The shoppers are 200, the products the demo catalog's.
- **memory.apply_signal (a purchase of three products)**: what memory does after a checkout of three
  lines (the worker's half of ``order_placed``), a heavier write of the same kind.

(``orders.announce_order_placed`` itself is not among them: it puts its purchase signal in the outbox,
which publishes it to Celery's default queue, where a store's own worker on the same Redis would take
it.)

Printed per kind: jobs/s, CPU per job of the worker's processes and of their PostgreSQL sessions, and
the ratio to the no-op in the same run.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks.common import (  # noqa: E402
    CpuWatch,
    bench_database_name,
    child_pids,
    create_database,
    database_url_for,
    drop_database,
    stop_process_group,
)

QUEUE = "celery_bench"
JOBS = max(1, int(os.environ.get("BENCH_CELERY_JOBS", "3000")))
CONCURRENCY = int(os.environ.get("BENCH_CELERY_CONCURRENCY", "2"))
SHOPPERS = 200
SAMPLE_SECONDS = 0.01


@dataclass(frozen=True)
class Drained:
    """The worker's pace through a full queue: ``jobs`` taken between ``first`` and ``last``
    (monotonic seconds)."""

    jobs: int
    first: float
    last: float

    @property
    def rate(self) -> float:
        return self.jobs / (self.last - self.first) if self.last > self.first else 0.0


def drained(samples: Sequence[tuple[float, int]], queued: int) -> Drained:
    """The worker's pace from (time, queue length) samples of a queue that held ``queued`` jobs.

    Timed from the last sample still showing every job (the worker had not taken one yet) to the first
    showing none: the jobs taken in between. The worker's start-up is before the first and not
    counted; the jobs still running after the last (at most the pool's prefetch) are not either, as
    the ones taken at the first were running before it.
    """
    start = None
    for index, (_, length) in enumerate(samples):
        if length < queued:
            start = max(index - 1, 0)
            break
    if start is None:
        raise ValueError("the worker took no job")
    first_time, first_length = samples[start]
    for when, length in samples[start:]:
        if length == 0:
            return Drained(jobs=first_length, first=first_time, last=when)
    raise ValueError("the queue never emptied")


@dataclass(frozen=True)
class Kind:
    name: str
    # Puts ``count`` jobs in the queue; returns how many.
    enqueue: Callable[[int], int]
    # The rows the jobs write, counted (None: nothing to count, the queue says it).
    effects: Callable[[], int] | None


def _redis():
    import redis
    from django.conf import settings

    return redis.Redis.from_url(settings.CELERY_BROKER_URL)


@contextmanager
def _worker(log_path: Path) -> Iterator[subprocess.Popen]:
    command = [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "commerce.celery",
        "worker",
        "-Q",
        QUEUE,
        "--pool=prefork",
        f"--concurrency={CONCURRENCY}",
        "--without-mingle",
        "--without-gossip",
        "--without-heartbeat",
        "-l",
        "warning",
        "-n",
        f"bench-celery-{uuid.uuid4().hex[:8]}@%h",
    ]
    env = {**os.environ, "CELERY_METRICS_PORT": ""}
    with open(log_path, "ab") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield process
        finally:
            stop_process_group(process)


def _run(kind: Kind, log_path: Path, database_url: str) -> tuple[Drained, list[float]]:
    broker = _redis()
    broker.delete(QUEUE)
    before = kind.effects() if kind.effects is not None else 0
    queued = kind.enqueue(JOBS)
    if broker.llen(QUEUE) != queued:
        raise SystemExit(f"{kind.name}: {queued} jobs sent, the queue holds {broker.llen(QUEUE)}")
    samples: list[tuple[float, int]] = []
    with _worker(log_path) as process:
        deadline = time.monotonic() + 120 + JOBS / 20
        pids: list[int] = []
        while time.monotonic() < deadline:
            length = broker.llen(QUEUE)
            samples.append((time.monotonic(), length))
            if length < queued and not pids:
                # The pool's children exist once the worker takes jobs: their CPU counts from here.
                pids = [process.pid, *child_pids(process.pid)]
                watch = CpuWatch(pids, database_url).__enter__()
            if pids and len(samples) % 20 == 0:
                watch.poll()  # each process recycles its connection every CELERY_DB_REUSE_MAX tasks
            if length == 0:
                break
            if process.poll() is not None:
                raise SystemExit(f"{kind.name}: the worker stopped; see {log_path}")
            time.sleep(SAMPLE_SECONDS)
        else:
            raise SystemExit(f"{kind.name}: the queue did not empty in time; see {log_path}")
        while kind.effects is not None and (done := kind.effects() - before) < queued:
            if time.monotonic() > deadline:
                raise SystemExit(f"{kind.name}: {done} of {queued} jobs had their effect; see {log_path}")
            time.sleep(SAMPLE_SECONDS)
        if kind.effects is None:
            time.sleep(0.2)  # the last jobs taken (at most the prefetch) finish
        watch.__exit__(None, None, None)
    return drained(samples, queued), watch.used


def _setup() -> tuple[list[int], list[int]]:
    """The demo catalog and the shoppers."""
    from django.core.management import call_command

    from catalog.models import Product
    from commerce.accounts.models import User

    call_command("migrate", verbosity=0)
    call_command("load_catalog", str(ROOT / "catalog" / "demo" / "demo_catalog.json"), verbosity=0)
    users = User.objects.bulk_create([User(email=f"shopper{n}@bench.example") for n in range(SHOPPERS)])
    return [u.pk for u in users], list(Product.objects.values_list("id", flat=True))


def _kinds(users: list[int], products: list[int]) -> list[Kind]:
    from commerce.celery import app
    from memory.models import SignalReceipt
    from memory.tasks import apply_signal_task

    def noop(count: int) -> int:
        for n in range(count):
            app.send_task("celery.accumulate", args=(n,), queue=QUEUE)
        return count

    def signals(signal: str, lines: int) -> Callable[[int], int]:
        def enqueue(count: int) -> int:
            run = uuid.uuid4().hex[:8]
            for n in range(count):
                apply_signal_task.apply_async(
                    kwargs={
                        "user_id": users[n % len(users)],
                        "product_ids": [products[(n + line) % len(products)] for line in range(lines)],
                        "signal": signal,
                        "event_key": f"bench:{run}:{n}",
                    },
                    queue=QUEUE,
                )
            return count

        return enqueue

    return [
        Kind("no-op (celery.accumulate)", noop, None),
        Kind("memory.apply_signal, a view", signals("view", 1), SignalReceipt.objects.count),
        Kind(
            "memory.apply_signal, 3 purchased",
            signals("purchase", 3),
            SignalReceipt.objects.count,
        ),
    ]


def main() -> int:
    base_url, redis_url = os.environ.get("DATABASE_URL", ""), os.environ.get("REDIS_URL", "")
    if not base_url or not redis_url:
        print(
            "The Celery benchmark runs a real worker on the production shape and needs both services:\n"
            "  DATABASE_URL=postgres://postgres@127.0.0.1:5432/commerce REDIS_URL=redis://127.0.0.1:6379/0"
            " make bench-celery",
            file=sys.stderr,
        )
        return 2
    db_name = bench_database_name(base_url, "celery_bench")
    bench_url = database_url_for(base_url, db_name)
    create_database(base_url, db_name)
    os.environ.update(
        {
            "DATABASE_URL": bench_url,
            "DJANGO_SETTINGS_MODULE": "commerce.settings",
            "DJANGO_DEBUG": "0",
            "CELERY_TASK_ALWAYS_EAGER": "0",
        }
    )
    os.environ.setdefault("SECRET_KEY", "benchmark-only-not-secret")
    import django

    django.setup()
    log_path = ROOT / "benchmarks" / "results" / "celery-worker.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.write_bytes(b"")
    try:
        users, products = _setup()
        kinds = _kinds(users, products)
        print(
            f"one Celery worker (prefork, --concurrency={CONCURRENCY}) on queue {QUEUE} of {redis_url},"
            f" PostgreSQL database {db_name}; {JOBS} jobs of each kind queued before it starts;"
            f" {os.cpu_count()} CPUs shared with PostgreSQL, Redis and this script; load average"
            f" {_load_average()}"
        )
        rates: dict[str, list[float]] = {}
        for attempt in range(2):
            for kind in kinds:
                result, used = _run(kind, log_path, bench_url)
                rates.setdefault(kind.name, []).append(result.rate)
                worker_ms, database_ms, _ = (ms / result.jobs for ms in used)
                print(
                    f"  run {attempt + 1}  {kind.name:32} {result.rate:8.1f} jobs/s"
                    f" ({result.jobs} jobs in {result.last - result.first:.2f} s);"
                    f" CPU a job: worker {worker_ms:.2f} ms, its PostgreSQL sessions {database_ms:.2f} ms"
                )
        yardstick = statistics.fmean(rates[kinds[0].name])
        print("jobs/s per worker (the mean of the two runs), and as a ratio to the no-op's in the same run:")
        for kind in kinds:
            rate = statistics.fmean(rates[kind.name])
            print(f"  {kind.name:32} {rate:8.1f} jobs/s  {rate / yardstick:6.3f}x the no-op")
        print(f"load average after: {_load_average()}; the worker's log: {log_path}")
    finally:
        from django.db import connections

        connections.close_all()
        _redis().delete(QUEUE)
        drop_database(base_url, db_name)
    return 0


def _load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
