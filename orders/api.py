"""Orders API (CONTRACT.md section 2, Orders): signed in only; a user only ever sees their own orders."""

from __future__ import annotations

import re

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.accounts.shoppers import signed_in_user
from commerce.errors import InvalidInput
from commerce.fields import TextField
from commerce.openapi import Error, link, merge_links, response_links
from orders.errors import IdempotencyKeyRequired
from orders.models import Order
from orders.selectors import order_get_for_user, orders_for_user
from orders.serializers import order_to_dict
from orders.services import (
    order_cancel,
    order_change_address,
    order_place,
    order_refund,
    request_fingerprint,
)

# Visible ASCII without a comma (under WSGI a comma is how a repeated header shows), no space at either
# end (HTTP strips it), 1 to 255 characters. The view refuses anything else with 400 invalid_input.
IDEMPOTENCY_KEY_PATTERN = r"^[!-+\--~]([ -+\--~]{0,253}[!-+\--~])?$"
IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    {"type": "string", "pattern": IDEMPOTENCY_KEY_PATTERN, "maxLength": 255},
    OpenApiParameter.HEADER,
    required=True,
    description="Any unique string per order attempt; the same key and body return the same order.",
)


class AddressIn(serializers.Serializer):
    name = TextField(max_length=200)
    line1 = TextField(max_length=200)
    line2 = TextField(max_length=200, required=False, allow_blank=True, default="")
    city = TextField(max_length=200)
    state = TextField(max_length=200, required=False, allow_blank=True, default="")
    postalCode = TextField(max_length=20)
    country = TextField(max_length=60)


class PaymentMethodIn(serializers.Serializer):
    type = TextField(max_length=20, default="card")
    token = TextField(max_length=80)


class OrderIn(serializers.Serializer):
    shippingAddress = AddressIn()
    paymentMethod = PaymentMethodIn()


class ReasonIn(serializers.Serializer):
    reason = TextField(max_length=500, required=False, allow_blank=True, default="")


class RefundItemIn(serializers.Serializer):
    itemId = TextField()
    quantity = serializers.IntegerField(min_value=1, max_value=50)


class RefundIn(ReasonIn):
    items = RefundItemIn(many=True, required=False)


class OrderItemOut(serializers.Serializer):
    id = serializers.CharField()
    productId = serializers.CharField()
    variantId = serializers.CharField(allow_null=True, help_text="null once the variant is deleted")
    name = serializers.CharField()
    size = serializers.CharField()
    color = serializers.CharField()
    unitPrice = serializers.CharField(help_text='two-place decimal string, e.g. "129.99"')
    quantity = serializers.IntegerField()


class AddressOut(serializers.Serializer):
    name = serializers.CharField()
    line1 = serializers.CharField()
    line2 = serializers.CharField()
    city = serializers.CharField()
    state = serializers.CharField()
    postalCode = serializers.CharField()
    country = serializers.CharField()


class RefundOut(serializers.Serializer):
    id = serializers.CharField()
    amount = serializers.CharField()
    reason = serializers.CharField()
    createdAt = serializers.DateTimeField()


class OrderOut(serializers.Serializer):
    id = serializers.CharField(help_text="the order number, six characters, e.g. 4F7K2Q")
    status = serializers.ChoiceField(choices=Order.Status.values)
    items = OrderItemOut(many=True)
    subtotal = serializers.CharField()
    discount = serializers.CharField()
    tax = serializers.CharField()
    shipping = serializers.CharField()
    total = serializers.CharField()
    currency = serializers.CharField()
    shippingAddress = AddressOut()
    trackingNumber = serializers.CharField(allow_null=True, help_text="set once the order ships")
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    refunds = RefundOut(many=True)


def _order_links(order_id: str) -> dict[str, dict]:
    """The operations that take an order's id, fed from ``order_id`` (a runtime expression)."""
    parameters = {"order_id": order_id}
    return {
        "GetOrder": link("orders_get", parameters=parameters),
        "CancelOrder": link("orders_cancel", parameters=parameters),
        "RefundOrder": link("orders_refund", parameters=parameters),
        "ChangeShippingAddress": link("orders_address", parameters=parameters),
    }


def _errors(*statuses: int) -> dict[int, OpenApiResponse]:
    meaning = {
        400: "Invalid input (details name the field).",
        401: "Not signed in.",
        404: "No such order on your account.",
        409: "Conflict (insufficient_stock, idempotency_in_progress).",
        422: "Rule violated (illegal_transition, payment_declined, idempotency_key_reused, ...).",
        502: "The payment provider refused (refund_failed).",
    }
    return {code: OpenApiResponse(Error, description=meaning[code]) for code in statuses}


class OrderListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    token_scope = "orders"  # a personal access token places orders only with this scope
    serializer_class = OrderOut

    @extend_schema(
        responses={200: OrderOut(many=True), **_errors(401)},
        tags=["orders"],
        operation_id="orders_list",
        extensions=response_links(200, **_order_links("$response.body#/items/0/id")),
    )
    def get(self, request):
        page = self.paginate_queryset(orders_for_user(signed_in_user(request))) or []
        return self.get_paginated_response([order_to_dict(o) for o in page])

    @extend_schema(
        request=OrderIn,
        responses={
            201: OrderOut,
            200: OpenApiResponse(OrderOut, description="A replay: the order this key already made."),
            **_errors(400, 401, 409, 422),
        },
        parameters=[IDEMPOTENCY_HEADER],
        tags=["orders"],
        operation_id="orders_create",
        extensions=merge_links(
            response_links(201, **_order_links("$response.body#/id")),
            response_links(200, **_order_links("$response.body#/id")),
        ),
    )
    def post(self, request):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise IdempotencyKeyRequired("The Idempotency-Key header is required.")
        if not re.fullmatch(IDEMPOTENCY_KEY_PATTERN, key):
            raise InvalidInput(
                "The Idempotency-Key header is 1 to 255 visible ASCII characters without a comma.",
                details={"field": "Idempotency-Key"},
            )
        body = OrderIn(data=request.data)
        body.is_valid(raise_exception=True)
        order, created = order_place(
            user=request.user,
            shipping_address=body.validated_data["shippingAddress"],
            payment_method=body.validated_data["paymentMethod"],
            idempotency_key=key,
            request_hash=request_fingerprint(body.validated_data),
        )
        if not created:  # a replay: read the order as it is now (a new one comes with its lines)
            order = order_get_for_user(user=request.user, order_id=order.number)
        return Response(
            order_to_dict(order), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderOut, **_errors(401, 404)}, tags=["orders"], operation_id="orders_get")
    def get(self, request, order_id: str):
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReasonIn,
        responses={200: OrderOut, **_errors(400, 401, 404, 422, 502)},
        tags=["orders"],
        operation_id="orders_cancel",
    )
    def post(self, request, order_id: str):
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_get_for_user(user=request.user, order_id=order_id)
        order_cancel(order=order, actor=request.user, reason=body.validated_data["reason"])
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))


class OrderRefundView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RefundIn,
        responses={200: OrderOut, **_errors(400, 401, 404, 422, 502)},
        tags=["orders"],
        operation_id="orders_refund",
    )
    def post(self, request, order_id: str):
        body = RefundIn(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_get_for_user(user=request.user, order_id=order_id)
        order_refund(
            order=order,
            actor=request.user,
            reason=body.validated_data["reason"],
            items=body.validated_data.get("items"),
        )
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))


class OrderAddressView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=AddressIn,
        responses={200: OrderOut, **_errors(400, 401, 404, 422)},
        tags=["orders"],
        operation_id="orders_address",
    )
    def put(self, request, order_id: str):
        body = AddressIn(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_get_for_user(user=request.user, order_id=order_id)
        order_change_address(order=order, actor=request.user, address=body.validated_data)
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))
