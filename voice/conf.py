"""Voice recovery settings read from the environment (BRIEF.md, "SuperU + Voice Recovery").

Everything here is the *environment* layer. :func:`voice.selectors.voice_config` merges it with the
admin's run-time overrides (:class:`voice.models.VoiceSettings`), and that merged view is the only one
services use. A Django setting of the same name (``settings.VOICE_MAX_CALLS_PER_DAY``) wins over the
environment, so ``settings.py`` or a test can pin a value.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import environ
from django.conf import settings

env = environ.Env()

DEFAULT_SCRIPT_TEMPLATE = (
    "Hi {name}, this is {store} calling about the items you left in your cart: {items}, "
    "{total} in total. Would you like a hand finishing your order? If you prefer to do it yourself, "
    "say or type the code {code} in our chat or on the site and your cart is right there."
)

# name -> (parser, default). Parsers are django-environ's typed readers.
_SPEC: dict[str, tuple[str, Any]] = {
    "VOICE_ABANDONMENT_MINUTES": ("int", 30),
    "VOICE_ABANDONMENT_MAX_AGE_HOURS": ("int", 72),
    "VOICE_RECOVERY_SCHEDULER_ENABLED": ("bool", False),
    "VOICE_RECOVERY_SCAN_INTERVAL_SECONDS": ("int", 30),
    "VOICE_MAX_ATTEMPTS_PER_CART": ("int", 3),
    "VOICE_MAX_CALLS_PER_USER_PER_DAY": ("int", 2),
    "VOICE_MAX_CALLS_PER_DAY": ("int", 300),
    "VOICE_DAILY_BUDGET_USD": ("decimal", Decimal("300")),
    "VOICE_ESTIMATED_COST_PER_CALL_USD": ("decimal", Decimal("0.7")),
    "VOICE_QUIET_HOURS_START": ("int", 21),
    "VOICE_QUIET_HOURS_END": ("int", 8),
    "VOICE_RETRY_BACKOFF_SECONDS_CSV": ("str", "60,300,900"),
    "VOICE_SCRIPT_VERSION": ("str", "v1"),
    "VOICE_SCRIPT_TEMPLATE": ("str", DEFAULT_SCRIPT_TEMPLATE),
    "VOICE_GLOBAL_KILL_SWITCH": ("bool", False),
    "VOICE_DEFAULT_TIMEZONE": ("str", "UTC"),
    "VOICE_ALERT_BACKLOG_THRESHOLD": ("int", 50),
    "VOICE_ALERT_FAILURE_RATIO_THRESHOLD": ("decimal", Decimal("0.35")),
    "VOICE_ATTRIBUTION_HOURS": ("int", 48),
    "VOICE_CALL_TIMEOUT_MINUTES": ("int", 30),
    "VOICE_CELERY_QUEUE": ("str", ""),
    "VOICE_SIMULATOR_CALLBACK_URL": ("str", "http://127.0.0.1:8000"),
    "VOICE_SIMULATOR_CALLBACK_DELAY_SECONDS": ("int", 3),
    "VOICE_STORE_NAME": ("str", "the store"),
    "SUPERU_ENABLED": ("bool", False),
    "SUPERU_API_URL": ("str", "https://voip-middlware.superu.ai"),
    "SUPERU_API_KEY": ("str", ""),
    "SUPERU_ASSISTANT_ID": ("str", ""),
    "SUPERU_FROM_PHONE_NUMBER": ("str", ""),
    "SUPERU_CAMPAIGN_ID": ("str", ""),
    "SUPERU_WEBHOOK_SECRET": ("str", ""),
    "SUPERU_WEBHOOK_TOLERANCE_SECONDS": ("int", 300),
    "SUPERU_TIMEOUT_SECONDS": ("float", 10.0),
}


_EMPTY_MEANS_DEFAULT = frozenset(
    {
        "VOICE_RETRY_BACKOFF_SECONDS_CSV",
        "VOICE_SCRIPT_VERSION",
        "VOICE_SCRIPT_TEMPLATE",
        "VOICE_DEFAULT_TIMEZONE",
        "VOICE_STORE_NAME",
        "SUPERU_API_URL",
    }
)


def _read(name: str, parser: str, default: Any) -> Any:
    if hasattr(settings, name):
        return getattr(settings, name)
    if parser == "decimal":
        raw = env.str(name, default="")
        return Decimal(raw) if raw.strip() else default
    if parser == "str":
        value = env.str(name, default=default)
        # An empty variable turns an integration off (ARCHITECTURE rule 15); where empty means nothing
        # (a template, a time zone) it falls back to the default instead.
        return default if value == "" and name in _EMPTY_MEANS_DEFAULT else value
    return getattr(env, parser)(name, default=default)


def env_values() -> dict[str, Any]:
    """Every voice setting from Django settings / the environment, with BRIEF.md's defaults."""
    return {name: _read(name, parser, default) for name, (parser, default) in _SPEC.items()}
