"""Browser hardening that Django and django-csp leave to the site (issue 12, docs/security.md).

- :class:`StoreCSPMiddleware`: django-csp's policy plus the site's own ``ws(s)://`` origin in
  ``connect-src``, so the chat socket connects under the CSP whatever host the site is served on.
- :class:`NoStoreMiddleware`: ``Cache-Control: no-store`` on pages and API answers about one person
  (account, orders, checkout, memory), so a shared computer's back button or a proxy cache keeps none.
- :func:`csp_report`: ``POST /csp-report/``, where browsers send what the policy blocked; each report
  is logged and counted (``csp_violation_reports_total`` on ``/metrics``).
- :func:`metrics`: ``/metrics`` behind ``METRICS_TOKEN`` when it is set.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from csp.middleware import CSPMiddleware, PolicyParts
from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse, HttpResponseBase, HttpResponseForbidden
from django.utils.cache import add_never_cache_headers
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from prometheus_client import Counter
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from commerce.metrics import metrics_text, token_allows
from commerce.security_events import record_security_event

# Pages and API answers that show one person's data. Prefixes of request.path.
NO_STORE_PREFIXES = (
    "/account/",
    "/orders/",
    "/checkout/",
    "/api/v1/account",
    "/api/v1/auth/",
    "/api/v1/orders",
    "/api/v1/memory",
)

# A report is a few hundred bytes; anything much larger is not one and is not read.
CSP_REPORT_MAX_BYTES = 16_384
CSP_REPORT_CONTENT_TYPES = ("application/csp-report", "application/reports+json", "application/json")
# The counter's label comes from the report, which anyone can send: only known directive names become
# labels, so a flood of made-up names cannot grow the metrics without bound.
KNOWN_DIRECTIVES = frozenset(
    {
        "default-src",
        "script-src",
        "script-src-elem",
        "script-src-attr",
        "style-src",
        "style-src-elem",
        "style-src-attr",
        "img-src",
        "font-src",
        "connect-src",
        "object-src",
        "base-uri",
        "form-action",
        "frame-ancestors",
        "frame-src",
        "child-src",
        "worker-src",
        "manifest-src",
        "media-src",
    }
)
CSP_REPORTS = Counter(
    "csp_violation_reports_total",
    "Content-Security-Policy violation reports received at /csp-report/, by violated directive.",
    ["directive"],
)


class StoreCSPMiddleware(CSPMiddleware):
    """django-csp's middleware; ``connect-src`` also names this site's WebSocket origin.

    CSP level 3 lets ``'self'`` match ``ws:``/``wss:`` on the same host, but older engines did not, and
    the chat panel must connect everywhere the page loads.
    """

    def get_policy_parts(
        self, request: HttpRequest, response: HttpResponseBase, report_only: bool = False
    ) -> PolicyParts:
        parts = super().get_policy_parts(request, response, report_only)
        if report_only:
            return parts
        try:
            host = request.get_host()
        except DisallowedHost:
            return parts  # the response is the 400 for that host; it needs no socket
        socket_origin = f"{'wss' if request.is_secure() else 'ws'}://{host}"
        update = dict(parts.update or {})
        update["connect-src"] = [*update.get("connect-src", []), socket_origin]
        parts.update = update
        return parts


class NoStoreMiddleware:
    """Marks personal pages and API answers ``no-store`` (Django's ``never_cache`` headers)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(NO_STORE_PREFIXES):
            add_never_cache_headers(response)
        return response


def _violated_directives(body: dict | list) -> list[str]:
    """The directive of each report in a ``report-uri`` body (one report) or a Reporting API batch."""
    if isinstance(body, dict):
        reports = [body.get("csp-report")]
    else:
        reports = [item.get("body") for item in body if isinstance(item, dict)]
    directives = []
    for report in reports:
        if not isinstance(report, dict):
            continue
        name = report.get("effective-directive") or report.get("effectiveDirective") or ""
        if not name:
            name = str(report.get("violated-directive") or "").split(" ")[0]
        directives.append(name if name in KNOWN_DIRECTIVES else "other")
    return directives


@csrf_exempt  # browsers send reports without a CSRF token, and a report changes nothing
@require_POST
def csp_report(request: HttpRequest) -> HttpResponse:
    content_type = request.content_type or ""
    if content_type not in CSP_REPORT_CONTENT_TYPES:
        return HttpResponse(status=415)
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return HttpResponse(status=400)
    if length > CSP_REPORT_MAX_BYTES:
        return HttpResponse(status=413)
    try:
        body = json.loads(request.body or b"null")
    except ValueError:
        return HttpResponse(status=400)
    if not isinstance(body, dict | list):
        return HttpResponse(status=400)
    directives = _violated_directives(body)
    if not directives:
        return HttpResponse(status=400)
    for directive in directives:
        CSP_REPORTS.labels(directive=directive).inc()
    # One line per report (a security event); the body is JSON-encoded again so no report can forge
    # extra log lines. Anyone can post reports, so they are counted, not audited.
    record_security_event(
        "csp_report", audit=False, directives=directives, report=json.dumps(body, sort_keys=True)[:2048]
    )
    return HttpResponse(status=204)


def metrics(request: HttpRequest) -> HttpResponse:
    """Prometheus text of every process of this server (``commerce.metrics``); with ``METRICS_TOKEN`` set,
    only for ``Authorization: Bearer <it>``."""
    if not token_allows(request.META.get("HTTP_AUTHORIZATION", ""), settings.METRICS_TOKEN):
        return HttpResponseForbidden("A valid metrics token is required.", content_type="text/plain")
    return HttpResponse(metrics_text(), content_type=CONTENT_TYPE_LATEST)
