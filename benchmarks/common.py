"""Shared pieces of the benchmarks: a generated catalog, a throw-away PostgreSQL database, server
processes on a free loopback port, and a small closed-loop HTTP load generator.

Everything here talks to 127.0.0.1 only.
"""

from __future__ import annotations

import http.client
import math
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

LOOPBACK = "127.0.0.1"
BENCH_SETTINGS = "benchmarks.bench_settings"


# --- Another build ---------------------------------------------------------------------------


def commit_named(name: str) -> str | None:
    """The short hash of the commit ``name`` (a hash, branch or tag) in this checkout, or None."""
    found = subprocess.run(
        ["git", "rev-parse", "--short", "--verify", "--quiet", f"{name}^{{commit}}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    return found.stdout.strip() if found.returncode == 0 else None


@contextmanager
def checked_out(commit: str) -> Iterator[Path]:
    """``commit``'s tree in a temporary git worktree (removed on the way out), with the working tree's
    benchmark scripts copied in, so both builds are measured by the same code."""
    with tempfile.TemporaryDirectory(prefix="bench-base-") as scratch:
        tree = Path(scratch) / "tree"
        subprocess.run(
            ["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=ROOT, check=True
        )
        try:
            (tree / "var").mkdir(exist_ok=True)
            (tree / "benchmarks").mkdir(exist_ok=True)
            for script in (ROOT / "benchmarks").glob("*.py"):
                shutil.copy2(script, tree / "benchmarks" / script.name)
            yield tree
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=ROOT, check=False)


# --- Catalog ---------------------------------------------------------------------------------
# Issue 14's catalog: 20,000 products and about 148,000 variants. The demo generator gives every running
# shoe 40 variants (about 400,000 in all); at most 8 per product gives 143,903 for 20,000 products.
ISSUE_MAX_VARIANTS = 8


def generated_catalog(count: int, *, seed: int = 7, max_variants: int = 0) -> list[dict]:
    """``count`` products in the import format (CONTRACT.md section 4), from the demo generator.

    The demo generator writes whole "generations" of every category's models; this takes just
    enough generations and then an evenly spaced selection, so every category keeps its share.
    ``max_variants`` (0: all) keeps at most that many variants of each product, evenly spaced so
    its colours and sizes stay mixed.
    """
    from catalog.demo.generate import build_catalog

    per_generation = len(build_catalog(seed=seed, scale=1))
    products = build_catalog(seed=seed, scale=max(1, math.ceil(count / per_generation)))
    if len(products) > count:
        step = len(products) / count
        products = [products[int(i * step)] for i in range(count)]
    if max_variants:
        for product in products:
            variants = product["variants"]
            if len(variants) > max_variants:
                spacing = len(variants) / max_variants
                product["variants"] = [variants[int(i * spacing)] for i in range(max_variants)]
    return products


# --- Database --------------------------------------------------------------------------------
def database_url_for(base_url: str, name: str) -> str:
    """``base_url`` (any database on the server) with its database name replaced by ``name``."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("postgres", "postgresql", "pgsql", "postgis"):
        raise SystemExit(f"DATABASE_URL must be a PostgreSQL URL (postgres://...), not {parts.scheme}://")
    if parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"the benchmark only uses a loopback PostgreSQL, not {parts.hostname}")
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", parts.query, ""))


def bench_database_name(base_url: str, suffix: str) -> str:
    """A benchmark's own database beside the one ``base_url`` names: ``<that name>_<suffix>``, so two
    people sharing a server (each with their own DATABASE_URL) never drop each other's benchmark."""
    name = urlsplit(base_url).path.lstrip("/") or "commerce"
    return f"{name}_{suffix}"


def _admin_connection(base_url: str):
    import psycopg

    return psycopg.connect(database_url_for(base_url, "postgres"), autocommit=True)


def database_exists(base_url: str, name: str) -> bool:
    with _admin_connection(base_url) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def create_database(base_url: str, name: str) -> None:
    from psycopg import sql

    with _admin_connection(base_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(base_url: str, name: str) -> None:
    from psycopg import sql

    with _admin_connection(base_url) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


# --- Servers ---------------------------------------------------------------------------------
CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_ms(pids: list[int]) -> float:
    """User + system CPU the processes have used so far (Linux /proc; 0 elsewhere or once gone)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat(5))
    return total * 1000 / CLOCK_TICKS


def child_pids(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def database_backends(database_url: str, *, exclude_application: str = "") -> list[int]:
    """The PostgreSQL sessions on that database other than this one (a server's pooled or persistent
    connections), leaving out those whose application_name is ``exclude_application``."""
    import psycopg

    with psycopg.connect(database_url, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND (%s = '' OR application_name <> %s)",
            [exclude_application, exclude_application],
        ).fetchall()
    return [pid for (pid,) in rows]


class CpuWatch:
    """CPU used while a run lasts (``with``) by the server's processes, their PostgreSQL sessions and this
    load generator, in ms: a figure the neighbours' load moves far less than latency. A session the
    server's pool opens during the run counts from zero; ``exclude_application`` leaves out a watcher's
    own session."""

    def __init__(self, servers: list[int], database_url: str, *, exclude_application: str = "") -> None:
        self.servers, self.database_url, self.exclude = servers, database_url, exclude_application
        self.used: list[float] = []  # [servers, their PostgreSQL sessions, this process]

    def _sessions(self) -> dict[int, float]:
        backends = database_backends(self.database_url, exclude_application=self.exclude)
        return {pid: cpu_ms([pid]) for pid in backends}

    def __enter__(self) -> CpuWatch:
        self._start = (cpu_ms(self.servers), self._sessions(), time.process_time() * 1000)
        self._seen: dict[int, float] = {}
        return self

    def poll(self) -> None:
        """Reads the sessions' CPU now, for a run whose sessions may end before it does (a Celery
        worker recycles its connection): an ended session counts up to its last reading."""
        for pid, ms in self._sessions().items():
            if ms:  # 0: gone between the listing and the read
                self._seen[pid] = max(ms, self._seen.get(pid, 0.0))

    def __exit__(self, *exc: object) -> None:
        servers, sessions, generator = self._start
        self.poll()
        database = sum(ms - sessions.get(pid, 0.0) for pid, ms in self._seen.items())
        self.used = [cpu_ms(self.servers) - servers, database, time.process_time() * 1000 - generator]


def free_port() -> int:
    """A free loopback port: from ``BENCH_PORTS`` ("8103-8109") when set (a shared machine where each
    person has their own ports), else any the system picks."""
    first, _, last = os.environ.get("BENCH_PORTS", "").partition("-")
    candidates = range(int(first), int(last or first) + 1) if first else [0]
    for candidate in candidates:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            try:
                s.bind((LOOPBACK, candidate))
            except OSError:
                continue
            return s.getsockname()[1]
    raise SystemExit(f"no free port in BENCH_PORTS={os.environ['BENCH_PORTS']}")


def get(port: int, path: str, *, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(LOOPBACK, port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


@dataclass
class Server:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path


@contextmanager
def running_server(
    name: str,
    command: Sequence[str],
    *,
    port: int,
    env: dict[str, str],
    log_dir: Path,
    ready_path: str,
    cwd: Path = ROOT,
) -> Iterator[Server]:
    """Starts ``command`` (which must listen on ``port``) in ``cwd``, waits until ``ready_path``
    answers 200, and stops the process (SIGTERM, then SIGKILL) on the way out. Output goes to a log
    file."""
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            list(command), cwd=cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        server = Server(name=name, port=port, process=process, log_path=log_path)
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    raise SystemExit(f"{name} exited with {process.returncode}; see {log_path}")
                try:
                    status, _ = get(port, ready_path, timeout=5)
                    if status == 200:
                        break
                except OSError:
                    pass
                if time.monotonic() > deadline:
                    raise SystemExit(f"{name} did not answer {ready_path} within 60 s; see {log_path}")
                time.sleep(0.2)
            yield server
        finally:
            stop_process_group(process)


def stop_process_group(process: subprocess.Popen) -> None:
    """Stops a server started with ``start_new_session=True`` and its whole process group (gunicorn's
    workers go with their master): SIGTERM, then SIGKILL after 15 s."""
    if process.poll() is not None:
        return
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


# --- Load ------------------------------------------------------------------------------------
@dataclass
class LoadResult:
    requests: int
    errors: int
    seconds: float
    latencies_ms: list[float] = field(repr=False)
    first_error: str = ""

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        if len(self.latencies_ms) == 1:
            return self.latencies_ms[0]
        return statistics.quantiles(self.latencies_ms, n=100, method="inclusive")[int(p) - 1]


class _Client:
    """One keep-alive connection with its cookies, like one returning shopper's browser tab."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.conn = http.client.HTTPConnection(LOOPBACK, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def get(self, path: str) -> tuple[int, int]:
        headers = {"Accept": "text/html,application/json"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        try:
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
        except (http.client.HTTPException, OSError):
            # The server closed a kept-alive connection between requests: reconnect once.
            self.conn.close()
            self.conn.request("GET", path, headers=headers)
            response = self.conn.getresponse()
        body = response.read()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.will_close:
            self.conn.close()
        return response.status, len(body)

    def close(self) -> None:
        self.conn.close()


def run_load(
    port: int,
    paths: Sequence[str],
    *,
    concurrency: int,
    seconds: float,
    min_requests: int = 0,
    warmup_requests: int = 0,
) -> LoadResult:
    """Closed loop: ``concurrency`` clients each send the next request as soon as the last answered,
    cycling through ``paths``, for ``seconds`` (longer, up to three times as long, until
    ``min_requests`` have answered, so a slow endpoint still gets enough samples for a p95).
    Latency is measured per request on the client."""
    clients = [_Client(port) for _ in range(concurrency)]
    for i in range(warmup_requests):
        clients[i % concurrency].get(paths[i % len(paths)])
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    first_error: list[str] = []
    start_gate = threading.Barrier(concurrency + 1)
    stop_at = [0.0]
    hard_stop_at = [0.0]

    def work(index: int) -> None:
        client, mine = clients[index], latencies[index]
        n = index  # clients start at different paths so every path is in flight at once
        start_gate.wait()
        while True:
            now = time.perf_counter()
            if now >= hard_stop_at[0] or (
                now >= stop_at[0] and sum(len(x) for x in latencies) >= min_requests
            ):
                break
            path = paths[n % len(paths)]
            n += 1
            began = time.perf_counter()
            try:
                status, _ = client.get(path)
            except (http.client.HTTPException, OSError) as exc:
                errors[index] += 1
                first_error.append(f"{path}: {exc!r}")
                continue
            mine.append((time.perf_counter() - began) * 1000)
            if status != 200:
                errors[index] += 1
                first_error.append(f"{path}: HTTP {status}")

    threads = [threading.Thread(target=work, args=(i,), daemon=True) for i in range(concurrency)]
    for t in threads:
        t.start()
    began = time.perf_counter()
    stop_at[0] = began + seconds
    hard_stop_at[0] = began + 3 * seconds
    start_gate.wait()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - began
    for client in clients:
        client.close()
    all_latencies = sorted(x for per_client in latencies for x in per_client)
    return LoadResult(
        requests=len(all_latencies),
        errors=sum(errors),
        seconds=elapsed,
        latencies_ms=all_latencies,
        first_error=first_error[0] if first_error else "",
    )
