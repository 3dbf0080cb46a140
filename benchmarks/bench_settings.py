"""The site's own settings plus the benchmark's bare view (``/bench/ping``); nothing else changes.

The API's anonymous rate limit stays on (its cache round trip is part of every API request's
cost); the benchmark raises the limit through RATE_LIMIT_ANONYMOUS_PER_MINUTE instead of removing it.
"""

from commerce.settings import *  # noqa: F403

ROOT_URLCONF = "benchmarks.bench_urls"
