"""The call script's text: pure functions, no database and no services (models validate with them)."""

from __future__ import annotations


class _KeepUnknown(dict):
    """Unknown ``{placeholders}`` stay as written instead of failing the call."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def script_render_text(*, template: str, name: str, store: str, items: str, total: str, code: str) -> str:
    values = _KeepUnknown(name=name, store=store, items=items, total=total, code=code)
    return template.format_map(values)
