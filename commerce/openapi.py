"""The OpenAPI document says what the API does: every status, the error shape, string rules, links.

``StoreAutoSchema`` (REST_FRAMEWORK ``DEFAULT_SCHEMA_CLASS``) adds the contract's shared error responses
to every operation from what the view is (its authentication, throttles, path parameters, request
body), so an endpoint added anywhere documents them without a line of its own; a view still documents
its own errors (402-style business refusals, a 401 of a sign-in) with ``extend_schema(responses=...)``,
which win. Every error answer is :class:`Error` (CONTRACT.md section 2). Request strings carry the rule
DRF's ``CharField`` enforces (no NUL, no lone surrogate) as a ``pattern``.

``link``/``response_links`` let a view name the operations that take the ids its answer holds (OpenAPI
links: ``POST /orders`` -> ``GET /orders/{order_id}``, ...); :func:`move_response_links` (a
postprocessing hook) puts them under the responses, where OpenAPI wants them.
"""

from __future__ import annotations

from typing import Any

from django.core.validators import ProhibitNullCharactersValidator, RegexValidator
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.plumbing import force_instance
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers
from rest_framework.validators import ProhibitSurrogateCharactersValidator

# Any text without NUL (DRF's CharField refuses it, PostgreSQL cannot store it). DRF also refuses a lone
# UTF-16 surrogate, which no UTF-8 text holds; the pattern leaves that out because schemathesis cannot
# generate from a class naming surrogates (it drops such a pattern). Written with an escape: JSON Schema
# patterns are ECMA-262, and Python's re reads \u0000 the same way.
TEXT_PATTERN = "^[^\\u0000]*$"
# What str.strip() (DRF's trim_whitespace) removes, spelt out: a pattern's \s may be ASCII only (ECMA-262
# and schemathesis's reading differ from Python's), so the Unicode spaces are named.
WHITESPACE_CLASS = "\\s\\u001C-\\u001F\\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000"
# Text that must hold something besides white space (a trimmed field that may not be blank).
NOT_BLANK_PATTERN = f"^[^\\u0000]*[^{WHITESPACE_CLASS}\\u0000][^\\u0000]*$"

LINKS_EXTENSION = "x-response-links"
SESSION_PARAMETERS = frozenset({"sessionId", "X-Session-Id", "session_id"})


class ErrorBody(serializers.Serializer):
    code = serializers.CharField(help_text="Stable snake_case identifier, e.g. invalid_input.")
    message = serializers.CharField(help_text="Human text.")
    details = serializers.DictField(help_text="More about the error, e.g. fields: {name: [problems]}.")


class Error(serializers.Serializer):
    """Every API error answers this (CONTRACT.md section 2)."""

    error = ErrorBody()


def error_response(description: str) -> OpenApiResponse:
    return OpenApiResponse(Error, description=description)


# The shared errors, with when each applies (see StoreAutoSchema._shared_errors).
INVALID_INPUT = error_response(
    "`invalid_input` (details.fields names each field), `malformed_json`, or `duplicate_header`."
)
NOT_AUTHENTICATED = error_response(
    "`not_authenticated` (no or expired credentials) or `invalid_token` (a Bearer token that is not valid)."
)
NOT_FOUND = error_response("Not found: the id (or session id) names nothing of yours (`*_not_found`).")
TOO_LARGE = error_response("`request_too_large`: the body is over REQUEST_MAX_BODY_BYTES.")
NOT_JSON = error_response("`unsupported_media_type`: send the body as application/json.")
RULE_VIOLATED = error_response("A business rule said no (the code names it).")
RATE_LIMITED = error_response("`rate_limited`: too many requests; retry after `Retry-After` seconds.")

RETRY_AFTER_HEADER = {
    "Retry-After": {
        "schema": {"type": "integer", "minimum": 1},
        "description": "Seconds to wait before trying again.",
        "required": True,
    }
}


class StoreAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the shared error responses and the request string rule."""

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        # Here rather than in get_response_serializers, which @extend_schema(responses=) replaces.
        bodies = super()._get_response_bodies(direction)
        for code, body in list(bodies.items()):
            if int(code) >= 400 and "content" not in body:
                bodies[code] = self._get_response_for_code(
                    error_response(body.get("description", "")), code, direction=direction
                )
        for status, response in self._shared_errors().items():
            if str(status) not in bodies:
                bodies[str(status)] = self._get_response_for_code(response, str(status), direction=direction)
        return bodies

    def _shared_errors(self) -> dict[int, OpenApiResponse]:
        errors = {400: INVALID_INPUT}
        if any(self.get_auth()):  # [{}] alone: no credentials are read, none can be refused
            errors[401] = NOT_AUTHENTICATED
        if "{" in self.path or self._names_a_session():
            errors[404] = NOT_FOUND
        if self._has_body():
            errors.update({413: TOO_LARGE, 415: NOT_JSON, 422: RULE_VIOLATED})
        if self.view.get_throttles():
            errors[429] = RATE_LIMITED
        return errors

    def _has_body(self) -> bool:
        return self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer() is not None

    def _names_a_session(self) -> bool:
        names = {getattr(p, "name", None) for p in self.get_override_parameters()}
        request = force_instance(self.get_request_serializer()) if self._has_body() else None
        if isinstance(request, serializers.Serializer):
            names |= set(request.fields)
        return bool(names & SESSION_PARAMETERS)

    def _get_response_headers_for_code(self, status_code: str, direction: str = "response") -> dict:
        headers = super()._get_response_headers_for_code(status_code, direction)
        if str(status_code) == "429":
            headers = {**RETRY_AFTER_HEADER, **headers}
        return headers

    def _map_basic_serializer(self, serializer: Any, direction: str) -> Any:
        schema = super()._map_basic_serializer(serializer, direction)
        # A request serializer whose door refuses keys it does not know says so.
        if direction == "request" and getattr(serializer, "refuses_unknown_fields", False):
            schema["additionalProperties"] = False
        return schema

    def _map_serializer_field(self, field: Any, direction: str, bypass_extensions: bool = False) -> Any:
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        if direction == "request" and _refuses_nul(field) and _is_free_text(schema):
            # A trimmed field that may not be blank refuses "   " as well.
            trimmed_not_blank = getattr(field, "trim_whitespace", False) and not getattr(
                field, "allow_blank", True
            )
            schema["pattern"] = NOT_BLANK_PATTERN if trimmed_not_blank else TEXT_PATTERN
        return schema


def _refuses_nul(field: Any) -> bool:
    validators = getattr(field, "validators", [])
    if any(isinstance(v, RegexValidator) for v in validators):
        return False  # its own pattern (a RegexField's) is the rule the schema states
    return any(isinstance(v, ProhibitNullCharactersValidator) for v in validators) and any(
        isinstance(v, ProhibitSurrogateCharactersValidator) for v in validators
    )


def _is_free_text(schema: Any) -> bool:
    return (
        isinstance(schema, dict)
        and schema.get("type") == "string"
        and not {"pattern", "format", "enum"} & schema.keys()
    )


# --- OpenAPI links ------------------------------------------------------------------------------
def link(
    operation_id: str,
    *,
    parameters: dict[str, str] | None = None,
    body: dict[str, Any] | None = None,
    description: str = "",
) -> dict[str, Any]:
    """One OpenAPI link to ``operation_id``; values are runtime expressions like ``$response.body#/id``."""
    spec: dict[str, Any] = {"operationId": operation_id}
    if parameters:
        spec["parameters"] = parameters
    if body:
        spec["requestBody"] = body
    if description:
        spec["description"] = description
    return spec


def response_links(status: int, **links: dict[str, Any]) -> dict[str, Any]:
    """``extend_schema(extensions=response_links(201, GetOrder=link(...)))``: links of one answer."""
    return {LINKS_EXTENSION: {str(status): links}}


def merge_links(*parts: dict[str, Any]) -> dict[str, Any]:
    merged: dict[str, dict[str, Any]] = {}
    for part in parts:
        for status, links in part[LINKS_EXTENSION].items():
            merged.setdefault(status, {}).update(links)
    return {LINKS_EXTENSION: merged}


def text_rule_for_parameters(
    result: dict[str, Any], generator: Any, request: Any, public: bool
) -> dict[str, Any]:
    """Postprocessing hook: path and query strings carry the no-NUL rule ApiGuardMiddleware enforces."""
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query") and _is_free_text(parameter.get("schema")):
                    parameter["schema"]["pattern"] = TEXT_PATTERN
    return result


def move_response_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """Postprocessing hook: each operation's declared links go under its responses.

    A link to an operation the document does not have is an error here, not a dangling reference.
    """
    operation_ids = {
        operation.get("operationId")
        for path in result.get("paths", {}).values()
        for operation in path.values()
        if isinstance(operation, dict)
    }
    for path in result.get("paths", {}).values():
        for operation in path.values():
            if not isinstance(operation, dict) or LINKS_EXTENSION not in operation:
                continue
            for status, links in operation.pop(LINKS_EXTENSION).items():
                unknown = sorted({spec["operationId"] for spec in links.values()} - operation_ids)
                if unknown:
                    raise ValueError(f"{operation['operationId']} links to unknown operations {unknown}")
                response = operation["responses"].get(status)
                if response is None:
                    raise ValueError(f"{operation['operationId']} has links for undocumented status {status}")
                response.setdefault("links", {}).update(links)
    return result
