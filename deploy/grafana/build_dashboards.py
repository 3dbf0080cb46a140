"""Builds the store's Grafana dashboards with Grafana's typed SDK and writes them as JSON.

    .venv/bin/python deploy/grafana/build_dashboards.py      # or: make dashboards

The JSON files in ``deploy/grafana/dashboards/`` are what Grafana provisions (docker-compose mounts
them); this script is their source. ``commerce/tests/test_observability.py`` checks that the files are
what it builds, that they pass the checks Grafana's provisioning makes, and that every query parses
and names a metric the store exports. Each panel reads the provisioned data source ``prometheus``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from grafana_foundation_sdk.builders import dashboard, prometheus, stat, timeseries
from grafana_foundation_sdk.cog.encoder import JSONEncoder
from grafana_foundation_sdk.models.dashboard import DashboardCursorSync, DataSourceRef

OUT = Path(__file__).resolve().parent / "dashboards"
DATASOURCE = DataSourceRef(type_val="prometheus", uid="prometheus")
FULL, HALF, THIRD = 24, 12, 8
HEIGHT = 8


def quantile(q: float, histogram: str, *, by: str = "") -> str:
    """The ``q`` quantile of a histogram's last 5 minutes, summed over processes (and ``by`` labels)."""
    keep = f"le, {by}" if by else "le"
    return f"histogram_quantile({q}, sum by ({keep}) (rate({histogram}_bucket[5m])))"


def _queries(panel, queries: list[tuple[str, str]]):
    for index, (expr, legend) in enumerate(queries):
        panel = panel.with_target(
            prometheus.Dataquery().expr(expr).legend_format(legend).ref_id(chr(ord("A") + index))
        )
    return panel


def graph(title: str, queries: list[tuple[str, str]], *, unit: str = "short", width: int = HALF):
    panel = timeseries.Panel().title(title).datasource(DATASOURCE).unit(unit).span(width).height(HEIGHT)
    return _queries(panel, queries)


def figure(title: str, expr: str, *, unit: str = "short", width: int = THIRD):
    panel = stat.Panel().title(title).datasource(DATASOURCE).unit(unit).span(width).height(4)
    return _queries(panel, [(expr, title)])


def board(uid: str, title: str, description: str, panels: list) -> dashboard.Dashboard:
    built = (
        dashboard.Dashboard(title)
        .uid(uid)
        .description(description)
        .tags(["commerce"])
        .refresh("30s")
        .time("now-6h", "now")
        .timezone("utc")
        .tooltip(DashboardCursorSync.CROSSHAIR)
        .readonly()
    )
    for panel in panels:
        built = built.with_panel(panel)
    return built


def shop() -> dashboard.Dashboard:
    return board(
        "commerce-shop",
        "Shop",
        "Requests, errors and latency of the web and socket servers; checkouts and security events.",
        [
            figure(
                "5xx share",
                'sum(rate(django_http_responses_total_by_status_total{status=~"5.."}[5m]))'
                " / sum(rate(django_http_responses_total_by_status_total[5m]))",
                unit="percentunit",
            ),
            figure(
                "p95 latency", quantile(0.95, "django_http_requests_latency_seconds_by_view_method"), unit="s"
            ),
            figure("Orders placed (1 h)", 'sum(increase(commerce_checkouts_total{outcome="placed"}[1h]))'),
            graph(
                "Responses by status",
                [("sum by (status) (rate(django_http_responses_total_by_status_total[5m]))", "{{status}}")],
                unit="reqps",
            ),
            graph(
                "Latency (p50, p95, p99)",
                [
                    (quantile(q, "django_http_requests_latency_seconds_by_view_method"), f"p{int(q * 100)}")
                    for q in (0.5, 0.95, 0.99)
                ],
                unit="s",
            ),
            graph(
                "Checkouts by outcome",
                [("sum by (outcome) (increase(commerce_checkouts_total[5m]))", "{{outcome}}")],
            ),
            graph(
                "Security events by kind",
                [("sum by (kind) (increase(commerce_security_events_total[5m]))", "{{kind}}")],
            ),
        ],
    )


def assistant() -> dashboard.Dashboard:
    return board(
        "commerce-assistant",
        "Assistant",
        "Messages by intent, planner and fallback, reply time, and the model vendor's calls.",
        [
            figure("Breaker open", "max(commerce_llm_breaker_open)"),
            figure("Reply p95", quantile(0.95, "commerce_assistant_reply_seconds"), unit="s"),
            figure("Messages (1 h)", "sum(increase(commerce_assistant_messages_total[1h]))"),
            graph(
                "Messages by intent",
                [("sum by (intent) (increase(commerce_assistant_messages_total[5m]))", "{{intent}}")],
            ),
            graph(
                "Messages by planner and fallback",
                [
                    (
                        "sum by (planner, fallback) (increase(commerce_assistant_messages_total[5m]))",
                        "{{planner}} / {{fallback}}",
                    )
                ],
            ),
            graph(
                "Reply time (p50, p95) by planner",
                [
                    (
                        quantile(q, "commerce_assistant_reply_seconds", by="planner"),
                        f"p{int(q * 100)} {{{{planner}}}}",
                    )
                    for q in (0.5, 0.95)
                ],
                unit="s",
            ),
            graph(
                "Model calls by outcome",
                [("sum by (outcome) (increase(commerce_llm_calls_total[5m]))", "{{outcome}}")],
            ),
            graph(
                "Model latency p95 and fallbacks",
                [
                    (quantile(0.95, "commerce_llm_latency_seconds"), "p95 latency (s)"),
                    ("sum by (reason) (increase(commerce_llm_fallbacks_total[5m]))", "fallback {{reason}}"),
                ],
            ),
        ],
    )


def voice() -> dashboard.Dashboard:
    return board(
        "commerce-voice",
        "Voice recovery",
        "Recovery calls by outcome, the job backlog, the failure ratio and open alerts.",
        [
            figure("Backlog", "max(commerce_voice_backlog)"),
            figure("Failure ratio (24 h)", "max(commerce_voice_failure_ratio)", unit="percentunit"),
            figure("Open alerts", "max(commerce_voice_open_alerts)"),
            graph(
                "Calls finished by outcome",
                [("sum by (outcome) (increase(commerce_voice_calls_total[15m]))", "{{outcome}}")],
                width=FULL,
            ),
            graph("Backlog (queued + retrying jobs)", [("max(commerce_voice_backlog)", "backlog")]),
            graph(
                "Failure ratio (last 24 h)",
                [("max(commerce_voice_failure_ratio)", "failed / finished")],
                unit="percentunit",
            ),
        ],
    )


def infrastructure() -> dashboard.Dashboard:
    return board(
        "commerce-infrastructure",
        "Infrastructure",
        "Scrape targets, Celery backlog, outbox lag, database, cache and rate-limit fail-open.",
        [
            figure("Targets up", 'sum(up{job=~"commerce-.*"})'),
            figure("Celery queue", "max(commerce_celery_queue_length)"),
            figure("Outbox lag", "max(commerce_outbox_oldest_unpublished_seconds)", unit="s"),
            graph("Scrape targets up", [('up{job=~"commerce-.*"}', "{{job}}")]),
            graph("Celery tasks waiting", [("max(commerce_celery_queue_length)", "waiting")]),
            graph(
                "Database query time p95",
                [(quantile(0.95, "django_db_query_duration_seconds"), "p95")],
                unit="s",
            ),
            graph(
                "Database connections opened and errors",
                [
                    ("sum(rate(django_db_new_connections_total[5m]))", "new connections/s"),
                    ("sum by (type) (rate(django_db_errors_total[5m]))", "errors {{type}}"),
                ],
            ),
            graph(
                "Cache gets, hits and misses",
                [
                    ("sum(rate(django_cache_get_total[5m]))", "gets"),
                    ("sum(rate(django_cache_get_hits_total[5m]))", "hits"),
                    ("sum(rate(django_cache_get_misses_total[5m]))", "misses"),
                    ("sum(rate(django_cache_get_fail_total[5m]))", "failures"),
                ],
                unit="ops",
            ),
            graph(
                "Rate limiter letting requests through (cache down)",
                [("sum(increase(commerce_rate_limit_fail_open_total[5m]))", "fail-open")],
            ),
        ],
    )


DASHBOARDS = {"shop": shop, "assistant": assistant, "voice": voice, "infrastructure": infrastructure}


def _without_nulls(value: object) -> object:
    """Grafana fills a missing key with its default but keeps an explicit null (a panel's ``options``
    null breaks stat panels), so nulls are left out."""
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value


def render(name: str) -> str:
    model = json.loads(json.dumps(DASHBOARDS[name]().build(), cls=JSONEncoder))
    model = _without_nulls(model)
    # The SDK leaves these empty; Grafana reads their "list" (annotations, variables).
    model["annotations"] = {"list": []}
    model["templating"] = {"list": []}
    return json.dumps(model, indent=2, sort_keys=True) + "\n"


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in DASHBOARDS:
        (OUT / f"{name}.json").write_text(render(name))
        print(f"wrote {OUT / name}.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
