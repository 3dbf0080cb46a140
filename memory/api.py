"""Memory API (CONTRACT.md section 2, "Memory (signed in)"). Every view needs a signed-in user (JWT);
a guest gets the contract's 401 error. A user only ever reaches their own memory: no view takes a
user id, each reads ``request.user``.
"""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts.shoppers import signed_in_user
from commerce.openapi import Error, error_response, link, response_links
from commerce.pagination import limit_offset_parameters, parse_limit_offset
from memory.errors import MalformedPreferences
from memory.models import Preference
from memory.selectors import (
    history_queryset,
    memory_snapshot,
    preferences_get,
    summary_to_dict,
)
from memory.services import (
    FORGET_KEYS,
    PRICE_TEXT_PATTERN,
    affinity_forget,
    history_clear,
    memory_clear,
    memory_export_for,
    preference_forget,
    preferences_clear,
    preferences_update,
)

TAGS = ["memory"]


# --- Schema serializers (the views build dicts; these document the shapes) --------------------
class SizesSchema(serializers.Serializer):
    refuses_unknown_fields = True  # preferences_update refuses other sizes
    tops = serializers.CharField(allow_null=True, required=False, help_text="XS, S, M, L, XL or XXL.")
    bottoms = serializers.CharField(allow_null=True, required=False, help_text="Waist 26-44, or S, M, L, XL.")
    shoes = serializers.CharField(allow_null=True, required=False, help_text="4 to 15, halves included.")


class PreferencesSchema(serializers.Serializer):
    sizes = SizesSchema()
    brands = serializers.ListField(child=serializers.CharField())
    dislikedBrands = serializers.ListField(child=serializers.CharField())
    categories = serializers.ListField(child=serializers.CharField())
    styles = serializers.ListField(child=serializers.CharField())
    colors = serializers.ListField(child=serializers.CharField())
    dislikedColors = serializers.ListField(child=serializers.CharField())
    priceMin = serializers.CharField(allow_null=True, help_text='Two-place decimal string, e.g. "50.00".')
    priceMax = serializers.CharField(allow_null=True)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0, "maximum": 1_000_000},
            {"type": "string", "pattern": PRICE_TEXT_PATTERN},
        ],
        "nullable": True,
        "description": 'An amount from 0 to 1,000,000: a number or a decimal string ("49.99", "$50").',
    }
)
class PriceInSchema(serializers.Field):
    """What memory.services._clean_price reads."""


class PreferencesUpdateSchema(serializers.Serializer):
    """Partial update: a field left out is unchanged; null (or []) forgets it. Lists replace."""

    refuses_unknown_fields = True  # preferences_update answers 400 invalid_preference for other keys

    sizes = SizesSchema(required=False, allow_null=True)
    brands = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    dislikedBrands = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    categories = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    styles = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    colors = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    dislikedColors = serializers.ListField(child=serializers.CharField(), required=False, allow_null=True)
    priceMin = PriceInSchema(required=False, allow_null=True)
    priceMax = PriceInSchema(required=False, allow_null=True)


class SummarySchema(serializers.Serializer):
    id = serializers.CharField()
    conversation = serializers.CharField()
    summary = serializers.CharField(help_text="At most 280 characters.")
    channel = serializers.CharField()
    createdAt = serializers.DateTimeField()


class AffinitySchema(serializers.Serializer):
    id = serializers.CharField()
    kind = serializers.ChoiceField(choices=["product", "category", "brand"])
    key = serializers.CharField()
    # A field named label: DRF moves declared fields off the class, so Field.label is not shadowed.
    label = serializers.CharField()  # type: ignore[assignment]  # a field, not Field.label
    weight = serializers.FloatField(help_text="Current weight after decay (view 1, cart add 3, purchase 5).")
    strength = serializers.ChoiceField(choices=["slight", "moderate", "strong"])
    lastEventAt = serializers.DateTimeField()


class MemorySchema(serializers.Serializer):
    preferences = PreferencesSchema()
    history = SummarySchema(many=True)
    affinities = AffinitySchema(many=True)


class HistoryListSchema(serializers.Serializer):
    items = SummarySchema(many=True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class DeletedSchema(serializers.Serializer):
    deleted = serializers.DictField(child=serializers.IntegerField())


UNAUTHORIZED = error_response("Not signed in.")


class _SignedIn(APIView):
    permission_classes = [IsAuthenticated]


class MemoryView(_SignedIn):
    @extend_schema(
        operation_id="memory_retrieve",
        tags=TAGS,
        responses={200: MemorySchema, 401: UNAUTHORIZED},
        extensions=response_links(
            200,
            ForgetAffinity=link(
                "memory_affinity_forget", parameters={"affinity_id": "$response.body#/affinities/0/id"}
            ),
        ),
    )
    def get(self, request: Request) -> Response:
        return Response(memory_snapshot(user=request.user))

    @extend_schema(
        operation_id="memory_clear",
        tags=TAGS,
        description="Forgets everything: preferences, inferred interests and history.",
        responses={200: DeletedSchema, 401: UNAUTHORIZED},
    )
    def delete(self, request: Request) -> Response:
        return Response({"deleted": memory_clear(user=request.user)})


class PreferencesView(_SignedIn):
    @extend_schema(
        operation_id="memory_preferences_retrieve",
        tags=TAGS,
        responses={200: PreferencesSchema, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        return Response(preferences_get(user=request.user).to_dict())

    @extend_schema(
        operation_id="memory_preferences_update",
        tags=TAGS,
        request=PreferencesUpdateSchema,
        description=(
            "Partial update. Brands, categories, colours and styles must exist in the catalog "
            "(case-insensitive); an unknown one is a 422 `invalid_preference` naming it, with "
            "`details.suggestions`. What this schema forbids (another key, a list that is not one) "
            "is a 400 `invalid_preference`."
        ),
        responses={
            200: PreferencesSchema,
            400: error_response("`invalid_preference`: not what this schema allows."),
            401: UNAUTHORIZED,
            422: error_response(
                "`invalid_preference`: a brand, category, colour or style the catalog does not have, "
                "a size that is not one, priceMin above priceMax, a value both liked and disliked."
            ),
        },
    )
    def put(self, request: Request) -> Response:
        if not isinstance(request.data, dict):
            raise MalformedPreferences("Send preferences as a JSON object.", details={"field": None})
        prefs = preferences_update(user=request.user, changes=request.data, source=Preference.Source.API)
        return Response(prefs.to_dict())

    @extend_schema(
        operation_id="memory_preferences_clear",
        tags=TAGS,
        responses={200: PreferencesSchema, 401: UNAUTHORIZED},
    )
    def delete(self, request: Request) -> Response:
        preferences_clear(user=request.user)
        return Response(preferences_get(user=request.user).to_dict())


class PreferenceKeyView(_SignedIn):
    @extend_schema(
        operation_id="memory_preferences_forget",
        tags=TAGS,
        parameters=[
            OpenApiParameter("key", OpenApiTypes.STR, OpenApiParameter.PATH, enum=list(FORGET_KEYS)),
            OpenApiParameter(
                "value",
                OpenApiTypes.STR,
                OpenApiParameter.QUERY,
                required=False,
                description="For a list key: forget only this value (e.g. one brand); "
                "with any other key a 422 `invalid_preference`.",
            ),
        ],
        responses={
            200: PreferencesSchema,
            400: Error,
            401: UNAUTHORIZED,
            404: Error,
            422: error_response("`invalid_preference`: `value` given for a key that is not a list."),
        },
    )
    def delete(self, request: Request, key: str) -> Response:
        value = request.query_params.get("value") or None
        preference_forget(user=request.user, key=key, value=value)
        return Response(preferences_get(user=request.user).to_dict())


class HistoryView(_SignedIn):
    @extend_schema(
        operation_id="memory_history_list",
        tags=TAGS,
        parameters=limit_offset_parameters(),
        responses={200: HistoryListSchema, 400: Error, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        limit, offset = parse_limit_offset(request.query_params)
        qs = history_queryset(user=request.user)
        total = qs.count()
        items = [summary_to_dict(s) for s in qs[offset : offset + limit]] if offset < total else []
        return Response({"items": items, "total": total, "limit": limit, "offset": offset})

    @extend_schema(
        operation_id="memory_history_clear", tags=TAGS, responses={200: DeletedSchema, 401: UNAUTHORIZED}
    )
    def delete(self, request: Request) -> Response:
        return Response({"deleted": {"history": history_clear(user=request.user)}})


class AffinityView(_SignedIn):
    @extend_schema(
        operation_id="memory_affinity_forget",
        tags=TAGS,
        description="Forgets one inferred interest (an item of `affinities`).",
        responses={200: MemorySchema, 401: UNAUTHORIZED, 404: Error},
    )
    def delete(self, request: Request, affinity_id: str) -> Response:
        affinity_forget(user=request.user, affinity_id=affinity_id)
        return Response(memory_snapshot(user=request.user))


class ExportView(_SignedIn):
    @extend_schema(
        operation_id="memory_export",
        tags=TAGS,
        description="Everything remembered, as a JSON download (Content-Disposition: attachment).",
        responses={200: OpenApiTypes.OBJECT, 401: UNAUTHORIZED},
    )
    def get(self, request: Request) -> Response:
        response = Response(memory_export_for(user=signed_in_user(request)))
        response["Content-Disposition"] = f'attachment; filename="{export_filename()}"'
        return response


def export_filename() -> str:
    return f"my-memory-{timezone.now():%Y-%m-%d}.json"
