from django.conf import settings


def site(request) -> dict:
    """Values every page template needs (chat panel, cart badge, currency)."""
    shopper = getattr(request, "shopper", None)
    return {
        "CURRENCY": settings.CURRENCY,
        "shopper": shopper,
        "WS_HEARTBEAT_INTERVAL_SECONDS": settings.WS_HEARTBEAT_INTERVAL_SECONDS,
        # The request's CSP nonce (django-csp), read lazily: a page that prints it puts it in the
        # header. The name is the one django-htmx's {% htmx_script %} looks for.
        "csp_nonce": getattr(request, "csp_nonce", None),
    }
