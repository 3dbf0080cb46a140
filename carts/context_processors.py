from carts.selectors import cart_item_count


def cart_badge(request) -> dict:
    shopper = getattr(request, "shopper", None)
    return {"cart_item_count": cart_item_count(shopper) if shopper is not None else 0}
