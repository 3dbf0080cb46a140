"""The OpenAPI document says what the API does (commerce.openapi): shared errors, string rules, links."""

from __future__ import annotations

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework import serializers

from commerce.fields import TextField
from commerce.openapi import NOT_BLANK_PATTERN, TEXT_PATTERN

ERROR_REF = "#/components/schemas/Error"


@pytest.fixture(scope="module")
def schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _operations(schema: dict):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_error_response_has_the_contract_error_shape(schema):
    for path, method, operation in _operations(schema):
        for status, response in operation["responses"].items():
            if int(status) >= 400:
                content = response.get("content", {}).get("application/json", {})
                assert content.get("schema", {}).get("$ref") == ERROR_REF, (method, path, status)
    error = schema["components"]["schemas"]["ErrorBody"]
    assert set(error["required"]) == {"code", "message", "details"}


def test_shared_errors_follow_from_what_the_view_is(schema):
    responses = {(m, p): set(o["responses"]) for p, m, o in _operations(schema)}
    # Every operation may get 400 (a repeated critical header, a malformed query or body).
    assert all("400" in statuses for statuses in responses.values())
    # Signed in: 401; an id in the path: 404; a body: 413, 415, 422; throttled: 429.
    assert {"401", "404", "413", "415", "422", "429"} <= responses[
        ("POST", "/api/v1/orders/{order_id}/cancel")
    ]
    # The sign-up reads no credentials (no 401); the voice callback has no throttle (no 429).
    assert "401" not in responses[("POST", "/api/v1/auth/register")]
    assert "429" not in responses[("POST", "/api/v1/voice/superu/callback")]
    # A guest's session id may name nothing: 404 session_not_found.
    assert "404" in responses[("GET", "/api/v1/cart")]
    assert "404" in responses[("POST", "/api/v1/interactions/message")]


def test_a_rate_limited_answer_documents_retry_after(schema):
    response = schema["paths"]["/api/v1/products"]["get"]["responses"]["429"]
    assert response["headers"]["Retry-After"]["required"] is True


def test_request_strings_carry_the_rule_the_serializer_enforces(schema):
    components = schema["components"]["schemas"]
    assert components["TicketInRequest"]["properties"]["subject"]["pattern"] == NOT_BLANK_PATTERN
    # A field that may be blank: DRF's schema is "the text, or an empty string".
    assert components["AddressInRequest"]["properties"]["line2"]["oneOf"][0]["pattern"] == TEXT_PATTERN
    # Answers are not constrained: the rule is about what is accepted.
    assert "pattern" not in components["SupportTicket"]["properties"]["subject"]
    query = {p["name"]: p for p in schema["paths"]["/api/v1/products"]["get"]["parameters"]}
    assert query["query"]["schema"]["pattern"] == TEXT_PATTERN
    assert query["limit"]["schema"]["maximum"] == 100


@pytest.mark.parametrize(
    ("value", "accepted"),
    [("Where is my parcel?", True), ("   ", False), ("a\x00b", False), (" padded ", True)],
)
def test_the_pattern_and_the_serializer_agree(value, accepted):
    field = TextField(max_length=200)
    try:
        field.run_validation(value)
        served = True
    except serializers.ValidationError:
        served = False
    assert served is accepted
    assert bool(re.search(NOT_BLANK_PATTERN.replace("\\u0000", "\\x00"), value)) is accepted


def test_text_field_takes_only_json_strings():
    with pytest.raises(serializers.ValidationError):
        TextField().run_validation(42)


def test_links_lead_from_answers_to_the_operations_that_take_their_ids(schema):
    created = schema["paths"]["/api/v1/orders"]["post"]["responses"]["201"]["links"]
    assert created["GetOrder"] == {
        "operationId": "orders_get",
        "parameters": {"order_id": "$response.body#/id"},
    }
    assert {"CancelOrder", "RefundOrder", "ChangeShippingAddress"} <= set(created)
    login = schema["paths"]["/api/v1/auth/login"]["post"]["responses"]["200"]["links"]
    assert login["Refresh"]["requestBody"] == {"refreshToken": "$response.body#/refreshToken"}


def test_every_operation_with_a_path_id_is_reached_by_a_link(schema):
    """A new endpoint taking an id must say (with response_links) which answer gives that id."""
    targets = {
        link["operationId"]
        for _, _, operation in _operations(schema)
        for response in operation["responses"].values()
        for link in response.get("links", {}).values()
    }
    needing = {
        operation["operationId"]
        for path, _, operation in _operations(schema)
        if any(p["in"] == "path" and "enum" not in p["schema"] for p in operation.get("parameters", []))
    }
    assert needing - targets == set()
