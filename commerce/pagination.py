"""The contract's list shape: ``{items, total, limit, offset}`` with ``limit``/``offset`` parameters."""

from __future__ import annotations

from typing import Any

from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from commerce.errors import InvalidInput

MAX_LIMIT = 100


class ContractPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return parse_limit_offset(request.query_params, self.default_limit)[0]

    def get_offset(self, request) -> int:
        return parse_limit_offset(request.query_params, self.default_limit)[1]

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"items": data, "total": self.count, "limit": self.limit, "offset": self.offset})

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["items", "total", "limit", "offset"],
            "properties": {
                "items": schema,
                "total": {"type": "integer"},
                "limit": {"type": "integer"},
                "offset": {"type": "integer"},
            },
        }


def parse_limit_offset(params, default_limit: int = 20) -> tuple[int, int]:
    """Reads ``limit`` and ``offset``; a non-number or a negative one is a 400, not a silent default."""
    values = []
    for name, default, low, high in (("limit", default_limit, 1, MAX_LIMIT), ("offset", 0, 0, None)):
        raw = params.get(name)
        if raw in (None, ""):
            values.append(default)
            continue
        try:
            value = int(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"{name} must be a whole number.", details={"field": name}) from None
        if value < low or (high is not None and value > high):
            bound = f"between {low} and {high}" if high else f"at least {low}"
            raise InvalidInput(f"{name} must be {bound}.", details={"field": name})
        values.append(value)
    return values[0], values[1]
