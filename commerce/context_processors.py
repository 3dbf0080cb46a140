from django.conf import settings


def site(request) -> dict:
    """Values every page template needs (chat panel, cart badge, currency)."""
    shopper = getattr(request, "shopper", None)
    return {
        "CURRENCY": settings.CURRENCY,
        "shopper": shopper,
        "WS_HEARTBEAT_INTERVAL_SECONDS": settings.WS_HEARTBEAT_INTERVAL_SECONDS,
    }
