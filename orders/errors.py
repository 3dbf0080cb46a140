"""Order error codes (raised by orders.services and orders.payments, rendered by each door).

The codes are part of the public contract (API clients and the assistant branch on them), so each
lives here once instead of as a string literal at every raise.
"""

from catalog.errors import InsufficientStock as InsufficientStock  # raised by checkout; catalog owns stock
from commerce.errors import Conflict, DomainError, InvalidInput, NotFound


class OrderNotFound(NotFound):
    code = "order_not_found"


class IllegalTransition(DomainError):
    """The order's status does not allow this move (``details`` holds ``status`` and ``action``)."""

    code = "illegal_transition"


class CartEmpty(DomainError):
    code = "cart_empty"


class DiscountInvalid(DomainError):
    """The cart's discount code stopped applying between the cart and the checkout."""

    code = "discount_invalid"


class PaymentDeclined(DomainError):
    code = "payment_declined"


class InvalidPaymentToken(DomainError):
    """The gateway knows no such payment method: a well-formed request refused (422, as payment_declined)."""

    code = "invalid_payment_token"


class RefundFailed(DomainError):
    """The gateway refused a refund; nothing about the order changed."""

    status_code = 502
    code = "refund_failed"


class IdempotencyKeyRequired(InvalidInput):
    code = "idempotency_key_required"


class IdempotencyKeyReused(DomainError):
    code = "idempotency_key_reused"


class IdempotencyInProgress(Conflict):
    code = "idempotency_in_progress"


class ReturnWindowClosed(DomainError):
    code = "return_window_closed"


class RefundQuantityExceeded(DomainError):
    code = "refund_quantity_exceeded"


class NothingToRefund(DomainError):
    code = "nothing_to_refund"


class UnknownOrderItem(InvalidInput):
    code = "unknown_item"


class ConfirmationNotFound(NotFound):
    """No checkout confirmation with this id for this shopper (another shopper's is "not found" too)."""

    code = "confirmation_not_found"


class ConfirmationExpired(DomainError):
    code = "confirmation_expired"


class ConfirmationUsed(Conflict):
    """The confirmation already placed an order under another requestId, or the shopper said no."""

    code = "confirmation_used"


class CartChanged(Conflict):
    """The cart is not the one the confirmation showed: prepare the checkout again."""

    code = "cart_changed"


class NoDetailsOnFile(DomainError):
    """An agent's checkout reuses the address and payment method of the shopper's last order."""

    code = "no_details_on_file"
