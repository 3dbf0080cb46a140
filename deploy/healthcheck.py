"""Container health check: exit 0 when ``GET <url>`` (local, http) answers 200, else 1 (no curl here).

Sent with ``Host: web``, the one host name the compose file always adds to ALLOWED_HOSTS, so the check
works whatever site names the operator allows. The containers check ``/health/live`` (liveness: the
process answers); ``/health`` (readiness) answers 503 when a dependency is down.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request

TIMEOUT_SECONDS = 5


def healthy(url: str) -> bool:
    request = urllib.request.Request(url, headers={"Host": "web"})  # noqa: S310  # nosec B310
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310  # nosec B310
            return response.status == 200
    except (urllib.error.URLError, OSError) as exc:
        print(f"unhealthy: {url}: {exc}", file=sys.stderr)
        return False


if __name__ == "__main__":
    sys.exit(0 if healthy(sys.argv[1]) else 1)
