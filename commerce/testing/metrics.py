"""Reading ``/metrics`` in tests as Prometheus does: through the view, with the bearer token, parsed by
prometheus_client's own text parser (so a test sees exactly what a scrape sees)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families

SCRAPE_TOKEN = "scrape-token-for-tests"


def scrape(client, settings) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """``(sample name, sorted labels) -> value`` from ``GET /metrics`` with ``METRICS_TOKEN`` set."""
    settings.METRICS_TOKEN = SCRAPE_TOKEN
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {SCRAPE_TOKEN}")
    assert response.status_code == 200, response.status_code
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def sample(scraped: dict, name: str, **labels: str) -> float:
    """One sample's value, 0 when the scrape has none yet (a labelled counter never incremented)."""
    return scraped.get((name, tuple(sorted(labels.items()))), 0.0)
