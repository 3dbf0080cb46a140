"""A signing ACP client for tests: what an agent platform sends (spec 2026-04-17)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.test import Client
from django.utils import timezone

from orders.acp.signing import request_signature

SECRET = "acp-test-secret"
ADDRESS = {
    "name": "Ada Shopper",
    "line_one": "500 Main St",
    "line_two": "Apt 4",
    "city": "Austin",
    "state": "TX",
    "country": "US",
    "postal_code": "78701",
}
FULFILLMENT = {"name": "Ada Shopper", "email": "ada@example.com", "address": ADDRESS}


def payment(token: str = "pm_test_visa") -> dict[str, Any]:
    return {
        "handler_id": "card_tokenized",
        "instrument": {"type": "card", "credential": {"type": "spt", "token": token}},
    }


class AcpClient:
    """Signs every request with ``SECRET`` (``Signature`` over ``Timestamp.body``), as the platform does."""

    def __init__(self, client: Client | None = None, *, secret: str = SECRET) -> None:
        self.client = client or Client()
        self.secret = secret

    def headers(
        self, body: bytes, *, key: str | None, timestamp: datetime | None = None, version: str = "2026-04-17"
    ) -> dict[str, str]:
        stamp = (timestamp or timezone.now()).isoformat().replace("+00:00", "Z")
        headers = {
            "Signature": request_signature(secret=self.secret, timestamp=stamp, body=body),
            "Timestamp": stamp,
            "Request-Id": f"req_{uuid.uuid4().hex[:8]}",
        }
        if version:
            headers["API-Version"] = version
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def post(self, path: str, body: Any = None, *, key: str | None = "", **options: Any):
        raw = b"" if body is None else json.dumps(body).encode()
        key = uuid.uuid4().hex if key == "" else key
        headers = options.pop("headers", None) or self.headers(raw, key=key, **options)
        return self.client.post("/acp" + path, data=raw, content_type="application/json", headers=headers)

    def get(self, path: str, **options: Any):
        return self.client.get("/acp" + path, headers=self.headers(b"", key=None, **options))

    def create(
        self, items: list[dict[str, Any]], *, key: str | None = "", version: str = "2026-04-17", **fields: Any
    ):
        body = {"currency": "usd", "capabilities": {}, "line_items": items, **fields}
        return self.post("/checkout_sessions", body, key=key, version=version)


def stale() -> datetime:
    return timezone.now() - timedelta(minutes=10)
