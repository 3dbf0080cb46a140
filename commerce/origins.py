"""Which browser origins may open the chat socket: the site's own hosts and the API's CORS origins."""

from __future__ import annotations

from channels.security.websocket import OriginValidator
from django.conf import settings


def allowed_socket_origins() -> list[str]:
    """``ALLOWED_HOSTS`` (any scheme and port, as Django reads them) plus each ``CORS_ORIGINS`` entry
    (scheme, host and port exactly; the setting is ``CORS_ALLOWED_ORIGINS``, django-cors-headers' name)."""
    return [*settings.ALLOWED_HOSTS, *settings.CORS_ALLOWED_ORIGINS]


class SiteOriginValidator(OriginValidator):
    """Channels' OriginValidator over :func:`allowed_socket_origins`, read at each connect so a changed
    setting (and a test's override) applies without a restart. A socket without an Origin is refused
    (browsers always send one)."""

    def __init__(self, application) -> None:
        super().__init__(application, allowed_origins=[])

    def validate_origin(self, parsed_origin) -> bool:
        return any(
            pattern == "*" or self.match_allowed_origin(parsed_origin, pattern)
            for pattern in allowed_socket_origins()
        )
