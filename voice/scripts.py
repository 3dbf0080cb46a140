"""The call script's text: pure functions, no database and no services (models validate with them)."""

from __future__ import annotations

# The recovery code said in the script. No 0/O/1/I: it is read out on the phone and typed back (in the
# chat or at /voice/r/<code>/), so the chat's understanding knows a code by these letters too.
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
RECOVERY_CODE_LENGTH = 6


class _KeepUnknown(dict):
    """Unknown ``{placeholders}`` stay as written instead of failing the call."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def script_render_text(*, template: str, name: str, store: str, items: str, total: str, code: str) -> str:
    values = _KeepUnknown(name=name, store=store, items=items, total=total, code=code)
    return template.format_map(values)
