"""HMAC-SHA256 over ``timestamp + "." + body``: the one signature scheme our webhooks speak, in and out.

The voice provider's callbacks and the Agentic Commerce Protocol (requests from the agent platform,
order events back to it) all sign the timestamp and the raw body together, so a captured body cannot
be replayed later under a fresh timestamp. Each caller chooses how the digest is written (hex, base64url)
and how far the timestamp may drift; comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac


def timestamped_hmac(*, secret: str, timestamp: str, body: bytes) -> bytes:
    """The raw HMAC-SHA256 digest of ``timestamp.body`` under ``secret``."""
    return hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).digest()


def digests_match(expected: str, given: str) -> bool:
    """Constant-time comparison of two written-out digests."""
    return hmac.compare_digest(expected.encode(), given.encode())
