"""Apps import downward only: the graph of imports between apps (module level and inside functions) has
no cycle, and each app imports only the apps below it (ARCHITECTURE.md: signals or hooks go up)."""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

from django.conf import settings

APPS = ("commerce.accounts", "catalog", "carts", "orders", "memory", "voice", "conversations")
# The project's own modules (URLs, ASGI routing, health) wire every app together: they are the top.
PROJECT_MODULES = ("commerce.urls", "commerce.asgi", "commerce.routing", "commerce.health", "commerce.wsgi")
# What each app may import, besides the shared bits of ``commerce`` (errors, money, celery, middleware).
ALLOWED = {
    "commerce.accounts": set(),
    "catalog": {"commerce.accounts"},
    "carts": {"commerce.accounts", "catalog"},
    "orders": {"commerce.accounts", "catalog", "carts"},
    "memory": {"commerce.accounts", "catalog", "carts", "orders"},
    "voice": {"commerce.accounts", "catalog", "carts", "orders"},
    "conversations": {"commerce.accounts", "catalog", "carts", "orders", "memory", "voice"},
}


def _app_of(module: str) -> str | None:
    if module.startswith(PROJECT_MODULES):
        return None
    return next((app for app in APPS if module == app or module.startswith(app + ".")), None)


def app_imports() -> dict[str, dict[str, set[str]]]:
    """app -> imported app -> the importing modules (tests, migrations and benchmarks left out)."""
    base = Path(settings.BASE_DIR)
    graph: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    for path in base.rglob("*.py"):
        relative = path.relative_to(base)
        if {".venv", "tests", "migrations", "benchmarks"} & set(relative.parts):
            continue
        module = ".".join(relative.with_suffix("").parts)
        source = _app_of(module)
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = (
                [node.module]
                if isinstance(node, ast.ImportFrom) and node.module and node.level == 0
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                target = _app_of(name)
                if target is not None and target != source:
                    graph[source][target].add(module)
    return graph


def test_each_app_imports_only_the_apps_below_it():
    wrong = {
        f"{source} -> {target} ({', '.join(sorted(modules))})"
        for source, targets in app_imports().items()
        for target, modules in targets.items()
        if target not in ALLOWED[source]
    }
    assert not wrong, "upward imports (use a signal or a hook):\n" + "\n".join(sorted(wrong))


def test_the_allowed_order_itself_has_no_cycle():
    seen: set[str] = set()
    for app in APPS:  # listed bottom-up: each may import only what comes before it
        assert ALLOWED[app] <= seen, app
        seen.add(app)
