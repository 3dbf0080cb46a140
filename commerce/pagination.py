"""The contract's list shape: ``{items, total, limit, offset}`` with ``limit``/``offset`` parameters."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response

from commerce.errors import InvalidInput

MAX_LIMIT = 100
# Far past any real list, and inside a PostgreSQL bigint however it is added to a limit.
MAX_OFFSET = 2_147_483_647


def limit_offset_schema(default_limit: int = 20, max_limit: int = MAX_LIMIT) -> dict[str, dict[str, Any]]:
    return {
        "limit": {"type": "integer", "minimum": 1, "maximum": max_limit, "default": default_limit},
        "offset": {"type": "integer", "minimum": 0, "maximum": MAX_OFFSET, "default": 0},
    }


def limit_offset_parameters(default_limit: int = 20, max_limit: int = MAX_LIMIT) -> list[OpenApiParameter]:
    """``limit`` and ``offset`` as parse_limit_offset reads them, for ``extend_schema(parameters=)``."""
    schema = limit_offset_schema(default_limit, max_limit)
    return [
        OpenApiParameter(name, schema[name], OpenApiParameter.QUERY, required=False, description=text)
        for name, text in (
            ("limit", f"Page size, 1 to {max_limit} (default {default_limit})."),
            ("offset", "Items to skip (default 0)."),
        )
    ]


class ContractPagination(LimitOffsetPagination):
    default_limit = 20
    max_limit = MAX_LIMIT

    def get_limit(self, request) -> int:
        return parse_limit_offset(request.query_params, self.default_limit)[0]

    def get_offset(self, request) -> int:
        return parse_limit_offset(request.query_params, self.default_limit)[1]

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response({"items": data, "total": self.count, "limit": self.limit, "offset": self.offset})

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": name, "required": False, "in": "query", "schema": schema}
            for name, schema in limit_offset_schema(self.default_limit).items()
        ]

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
    for name, default, low, high in (("limit", default_limit, 1, MAX_LIMIT), ("offset", 0, 0, MAX_OFFSET)):
        raw = params.get(name)
        if raw in (None, ""):
            values.append(default)
            continue
        # Plain ASCII digits only: int() would also read " 5", "+5", "1_000" and other scripts' digits.
        if not (isinstance(raw, str) and raw.isascii() and raw.isdigit()):
            raise InvalidInput(f"{name} must be a whole number.", details={"field": name})
        value = int(raw)
        if not low <= value <= high:
            raise InvalidInput(f"{name} must be between {low} and {high}.", details={"field": name})
        values.append(value)
    return values[0], values[1]
