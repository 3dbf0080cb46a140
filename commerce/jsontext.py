"""JSON text for the chat sockets' frames, written by orjson.

A search's answer on the socket is about 33 KB of JSON (five products with their variants, and their
cards' HTML); ``json.dumps`` with Django's encoder took 336 us of CPU for it, orjson 59 (measured on
the benchmark's visit). What orjson does not write itself -- dates and times, durations, Decimals, lazy
translations -- goes to Django's own encoder, and what orjson refuses but ``json`` writes (a lone
surrogate in a model's text, an integer beyond 64 bits, a float or tuple subclass) is written by
``json`` with Django's encoder, as before. orjson writes NaN and infinities as ``null`` (``json`` wrote
``NaN``, which is not JSON). The text is UTF-8 rather than ASCII-escaped, as the API's responses are.
"""

from __future__ import annotations

import json
from typing import Any

import orjson
from django.core.serializers.json import DjangoJSONEncoder

_DJANGO = DjangoJSONEncoder()
# Dates, times and dataclasses go to Django's encoder (orjson would write them its own way), and
# non-string keys are written as ``json`` writes them.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_NON_STR_KEYS


def dumps_text(value: Any) -> str:
    """``json.dumps(value, cls=DjangoJSONEncoder)``'s values, as compact UTF-8 text. A value neither
    can write raises ``TypeError``."""
    try:
        return orjson.dumps(value, default=_DJANGO.default, option=_OPTIONS).decode()
    except orjson.JSONEncodeError:
        return json.dumps(value, cls=DjangoJSONEncoder)


def loads_text(text: str | bytes) -> Any:
    """JSON text to Python values (``json.loads``' values); bad JSON raises ``json.JSONDecodeError``."""
    return orjson.loads(text)
