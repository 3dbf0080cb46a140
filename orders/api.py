"""Orders API (CONTRACT.md section 2, Orders): signed in only; a user only ever sees their own orders."""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from commerce.errors import InvalidInput
from orders.errors import IdempotencyKeyRequired
from orders.selectors import order_get_for_user, orders_for_user
from orders.serializers import order_to_dict
from orders.services import (
    order_cancel,
    order_change_address,
    order_place,
    order_refund,
    request_fingerprint,
)

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="Any unique string per order attempt; the same key and body return the same order.",
)


class AddressIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    line1 = serializers.CharField(max_length=200)
    line2 = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    city = serializers.CharField(max_length=200)
    state = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    postalCode = serializers.CharField(max_length=20)
    country = serializers.CharField(max_length=60)


class PaymentMethodIn(serializers.Serializer):
    type = serializers.CharField(max_length=20, default="card")
    token = serializers.CharField(max_length=80)


class OrderIn(serializers.Serializer):
    shippingAddress = AddressIn()
    paymentMethod = PaymentMethodIn()


class ReasonIn(serializers.Serializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RefundItemIn(serializers.Serializer):
    itemId = serializers.CharField()
    quantity = serializers.IntegerField(min_value=1, max_value=50)


class RefundIn(ReasonIn):
    items = RefundItemIn(many=True, required=False)


class OrderOut(serializers.Serializer):
    id = serializers.CharField()
    status = serializers.CharField()
    items = serializers.ListField(child=serializers.DictField())
    subtotal = serializers.CharField()
    discount = serializers.CharField()
    tax = serializers.CharField()
    shipping = serializers.CharField()
    total = serializers.CharField()
    currency = serializers.CharField()
    shippingAddress = serializers.DictField()
    createdAt = serializers.DateTimeField()
    updatedAt = serializers.DateTimeField()
    refunds = serializers.ListField(child=serializers.DictField())


class OrderListView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = OrderOut

    @extend_schema(responses={200: OrderOut(many=True)}, tags=["orders"], operation_id="orders_list")
    def get(self, request):
        page = self.paginate_queryset(orders_for_user(request.user))
        return self.get_paginated_response([order_to_dict(o) for o in page])

    @extend_schema(
        request=OrderIn,
        responses={201: OrderOut},
        parameters=[IDEMPOTENCY_HEADER],
        tags=["orders"],
        operation_id="orders_create",
    )
    def post(self, request):
        key = (request.headers.get("Idempotency-Key") or "").strip()
        if not key:
            raise IdempotencyKeyRequired("The Idempotency-Key header is required.")
        if len(key) > 255:
            raise InvalidInput("The Idempotency-Key header is too long (255 characters at most).")
        body = OrderIn(data=request.data)
        body.is_valid(raise_exception=True)
        order, created = order_place(
            user=request.user,
            shipping_address=body.validated_data["shippingAddress"],
            payment_method=body.validated_data["paymentMethod"],
            idempotency_key=key,
            request_hash=request_fingerprint(body.validated_data),
        )
        order = order_get_for_user(user=request.user, order_id=order.number)
        return Response(
            order_to_dict(order), status=status.HTTP_201_CREATED if created else status.HTTP_200_OK
        )


class OrderDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(responses={200: OrderOut}, tags=["orders"], operation_id="orders_get")
    def get(self, request, order_id: str):
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))


class OrderCancelView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReasonIn, responses={200: OrderOut}, tags=["orders"], operation_id="orders_cancel")
    def post(self, request, order_id: str):
        body = ReasonIn(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_get_for_user(user=request.user, order_id=order_id)
        order_cancel(order=order, actor=request.user, reason=body.validated_data["reason"])
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))


class OrderRefundView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(request=RefundIn, responses={200: OrderOut}, tags=["orders"], operation_id="orders_refund")
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
        request=AddressIn, responses={200: OrderOut}, tags=["orders"], operation_id="orders_address"
    )
    def put(self, request, order_id: str):
        body = AddressIn(data=request.data)
        body.is_valid(raise_exception=True)
        order = order_get_for_user(user=request.user, order_id=order_id)
        order_change_address(order=order, actor=request.user, address=body.validated_data)
        return Response(order_to_dict(order_get_for_user(user=request.user, order_id=order_id)))
