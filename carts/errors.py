"""Cart error codes (raised by carts.services, rendered by each door: the API's JSON error, a page's
form error, the assistant's reply). Each code of the contract lives here once."""

from catalog.errors import InsufficientStock as InsufficientStock  # raised here too; catalog owns stock
from commerce.errors import DomainError, InvalidInput, NotFound


class SessionRequired(InvalidInput):
    code = "session_required"


class InvalidQuantity(InvalidInput):
    code = "invalid_quantity"


class LineQuantityLimit(DomainError):
    code = "line_quantity_limit"


class CartLineNotFound(NotFound):
    code = "cart_line_not_found"


class VariantNotFound(NotFound):
    code = "variant_not_found"


class VariantProductMismatch(NotFound):
    """No variant of that id belongs to that product: 404 like any id that names nothing."""

    code = "variant_product_mismatch"


class OptionRequired(InvalidInput):
    code = "option_required"


class DiscountCodeRequired(InvalidInput):
    code = "discount_code_required"


class DiscountInvalid(DomainError):
    code = "discount_invalid"


class DiscountNotStarted(DomainError):
    code = "discount_not_started"


class DiscountExpired(DomainError):
    code = "discount_expired"


class DiscountExhausted(DomainError):
    code = "discount_exhausted"


class DiscountMinSubtotal(DomainError):
    code = "discount_min_subtotal"
