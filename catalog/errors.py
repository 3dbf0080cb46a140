"""Catalog error codes (raised by services and selectors, rendered by each door)."""

from commerce.errors import Conflict, InvalidInput, NotFound


class ProductNotFound(NotFound):
    code = "product_not_found"


class CatalogRecordInvalid(InvalidInput):
    """A record of an import file is invalid; ``details`` holds ``record``, ``sku`` and ``field``."""

    code = "invalid_catalog_record"


class InsufficientStock(Conflict):
    """Less stock than wanted (a cart line, a checkout); one code and one status (409: the shared stock
    changed or is short) for every door. ``details``: ``variantId`` and, from carts, ``available``."""

    code = "insufficient_stock"


class InvalidSearch(InvalidInput):
    """A search filter value is unusable (``details["field"]`` names it)."""

    code = "invalid_filter"


class InvalidPriceRange(InvalidSearch):
    """``minPrice`` above ``maxPrice``: each is well formed, together they break a rule OpenAPI cannot
    state across two parameters, so 422 (rule violated), same code and details as the 400s."""

    status_code = 422
