"""Request bodies checked against the protocol's own JSON Schema (``schema/``, version 2026-04-17).

Unknown fields are ignored rather than refused: the spec asks servers to ignore fields they do not know
(extensions, newer minor additions; its own examples send ``order_notes``), so ``additionalProperties``
failures are dropped and every other failure is a 400 naming the field as a JSONPath. Enums the spec
calls extensible (``intent_trace.reason_code``: unknown values are read as "other") are not enforced.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator, ValidationError

from orders.acp.errors import AcpError

# Fields whose enum the spec says to validate leniently.
EXTENSIBLE_ENUMS = frozenset({"reason_code"})
SCHEMA_FILE = Path(__file__).parent / "schema" / "schema.agentic_checkout.2026-04-17.json"


@cache
def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SCHEMA_FILE.read_text())
    return document


@cache
def _validator(definition: str) -> Draft202012Validator:
    document = _document()
    schema = {"$defs": document["$defs"], "$ref": f"#/$defs/{definition}"}
    return Draft202012Validator(schema)


def json_path(parts: Any) -> str:
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _tolerated(error: ValidationError) -> bool:
    if error.validator == "additionalProperties":
        return True
    path = list(error.absolute_path)
    return error.validator == "enum" and bool(path) and path[-1] in EXTENSIBLE_ENUMS


def validate(body: Any, definition: str) -> dict[str, Any]:
    """``body`` when it is a valid ``definition`` (e.g. ``CheckoutSessionCreateRequest``), else a 400."""
    if not isinstance(body, dict):
        raise AcpError("The request body must be a JSON object.", code="invalid_json", param="$")
    errors = sorted(
        (e for e in _validator(definition).iter_errors(body) if not _tolerated(e)),
        key=lambda e: list(e.absolute_path),
    )
    if errors:
        first = errors[0]
        code = "missing" if first.validator == "required" else "invalid"
        raise AcpError(first.message, code=code, param=json_path(first.absolute_path))
    return body
