"""Cart endpoints (CONTRACT.md section 2, Cart). Guests are named by ``X-Session-Id`` / ``session_id``.

A guest who sends no session id gets a new session, returned in the ``X-Session-Id`` header and the
``session_id`` cookie (ShopperAPIMixin), so the next call finds the same cart.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from carts.models import Cart
from carts.selectors import cart_with_lines
from carts.serializers import (
    ApplyDiscountIn,
    CartItemAddIn,
    CartItemUpdateIn,
    CartOut,
    cart_to_dict,
)
from carts.services import (
    cart_add_item,
    cart_apply_discount,
    cart_get_or_create_for_shopper,
    cart_remove_discount,
    cart_remove_line,
    cart_set_quantity,
)
from commerce.accounts.shoppers import SESSION_KEY_SCHEMA, ShopperAPIMixin
from commerce.openapi import error_response, link, response_links

SESSION_HEADER = OpenApiParameter(
    "X-Session-Id",
    SESSION_KEY_SCHEMA,
    OpenApiParameter.HEADER,
    required=False,
    description="A guest's session id (or the session_id cookie). Omit it to get a new one back.",
)
TAGS = ["cart"]
# A Cart answer names its lines; these operations take a line's id.
_FIRST_LINE = {"item_id": "$response.body#/items/0/id"}
CART_LINE_LINKS = {
    "UpdateLine": link("cart_item_update", parameters=_FIRST_LINE),
    "RemoveLine": link("cart_item_remove", parameters=_FIRST_LINE),
}


def _cart_response(cart: Cart, *, status_code: int = status.HTTP_200_OK) -> Response:
    return Response(cart_to_dict(cart_with_lines().get(pk=cart.pk)), status=status_code)


class CartView(ShopperAPIMixin, APIView):
    @extend_schema(
        parameters=[SESSION_HEADER],
        responses={200: CartOut},
        tags=TAGS,
        operation_id="cart_get",
        extensions=response_links(200, **CART_LINE_LINKS),
    )
    def get(self, request):
        cart = cart_get_or_create_for_shopper(shopper=self.get_shopper(create=True))
        return _cart_response(cart)


class CartItemsView(ShopperAPIMixin, APIView):
    token_scope = "cart"  # what a personal access token needs to write here

    @extend_schema(
        parameters=[SESSION_HEADER],
        request=CartItemAddIn,
        tags=TAGS,
        operation_id="cart_item_add",
        responses={201: CartOut, 409: error_response("`insufficient_stock`: not that many left.")},
        extensions=response_links(201, **CART_LINE_LINKS),
        description="Adds a variant; the same variant adds to its line (1 to 50 per line, never past stock).",
    )
    def post(self, request):
        data = CartItemAddIn(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_add_item(
            shopper=self.get_shopper(create=True),
            product_id=data.validated_data["productId"],
            variant_id=data.validated_data["variantId"],
            quantity=data.validated_data["quantity"],
        )
        # The service answers with the cart's lines as it left them: no second read.
        return Response(cart_to_dict(cart), status=status.HTTP_201_CREATED)


class CartItemView(ShopperAPIMixin, APIView):
    token_scope = "cart"  # what a personal access token needs to write here

    @extend_schema(
        parameters=[SESSION_HEADER],
        request=CartItemUpdateIn,
        responses={200: CartOut, 409: error_response("`insufficient_stock`: not that many left.")},
        tags=TAGS,
        operation_id="cart_item_update",
        description="Sets the line's quantity; 0 removes the line.",
    )
    def put(self, request, item_id: str):
        data = CartItemUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_set_quantity(
            shopper=self.get_shopper(), line_id=item_id, quantity=data.validated_data["quantity"]
        )
        return Response(cart_to_dict(cart))  # its lines as read under its lock: no read again

    @extend_schema(
        parameters=[SESSION_HEADER], responses={200: CartOut}, tags=TAGS, operation_id="cart_item_remove"
    )
    def delete(self, request, item_id: str):
        cart = cart_remove_line(shopper=self.get_shopper(), line_id=item_id)
        return Response(cart_to_dict(cart))  # its lines as read under its lock: no read again


class CartApplyDiscountView(ShopperAPIMixin, APIView):
    token_scope = "cart"  # what a personal access token needs to write here

    @extend_schema(
        parameters=[SESSION_HEADER],
        request=ApplyDiscountIn,
        responses={200: CartOut},
        tags=TAGS,
        operation_id="cart_apply_discount",
        description=(
            "Applies a discount code (any case). Refusals: discount_invalid, discount_not_started, "
            "discount_expired, discount_exhausted, discount_min_subtotal (422)."
        ),
    )
    def post(self, request):
        data = ApplyDiscountIn(data=request.data)
        data.is_valid(raise_exception=True)
        cart = cart_apply_discount(shopper=self.get_shopper(create=True), code=data.validated_data["code"])
        return _cart_response(cart)


class CartDiscountView(ShopperAPIMixin, APIView):
    token_scope = "cart"  # what a personal access token needs to write here

    @extend_schema(
        parameters=[SESSION_HEADER], responses={200: CartOut}, tags=TAGS, operation_id="cart_remove_discount"
    )
    def delete(self, request):
        cart = cart_remove_discount(shopper=self.get_shopper(create=True))
        return _cart_response(cart)
