"""The sockets' JSON text reads back as Django's encoder wrote it (commerce/jsontext.py)."""

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import NamedTuple

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.utils.functional import lazy
from django.utils.safestring import mark_safe

from commerce.jsontext import dumps_text, loads_text


def test_every_value_reads_back_as_djangos_encoder_wrote_it():
    lazy_label = lazy(lambda: "Size and colour", str)()
    value = {
        "total": Decimal("129.90"),
        "placedAt": datetime(2026, 12, 6, 7, 8, 9, 123456, tzinfo=UTC),
        "day": date(2026, 12, 6),
        "at": time(7, 8, 9, 500000),
        "wait": timedelta(minutes=90),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "label": lazy_label,
        "html": mark_safe('<p class="chat">Size 10 · white — “ok”</p>'),
        "counts": {1: "one", 2: "two"},
        "items": ("a", 1, 2.5, None, True),
    }

    assert loads_text(dumps_text(value)) == json.loads(json.dumps(value, cls=DjangoJSONEncoder))
    assert loads_text(dumps_text(value))["placedAt"] == "2026-12-06T07:08:09.123Z"  # Django's form


class Point(NamedTuple):
    x: int
    y: int


def test_what_orjson_refuses_is_written_as_json_writes_it():
    value = {"delta": "half a pair \ud800 of surrogates", "big": 2**70, "at": Point(1, 2)}
    # json.loads: orjson refuses to read a lone surrogate back, as it refuses to write one
    assert json.loads(dumps_text(value)) == {"delta": value["delta"], "big": 2**70, "at": [1, 2]}


def test_the_text_is_compact_utf8_not_ascii_escaped():
    text = dumps_text({"reply": "Size 10 · white", "n": 1})
    assert text == '{"reply":"Size 10 · white","n":1}'


def test_a_value_neither_encoder_can_write_is_refused():
    @dataclass
    class Unknown:
        name: str

    with pytest.raises(TypeError):
        dumps_text({"thing": Unknown("x")})  # Django's encoder refuses dataclasses; so does this
    with pytest.raises(TypeError):
        dumps_text({"thing": object()})


def test_bad_json_text_raises_the_standard_decode_error():
    with pytest.raises(json.JSONDecodeError):
        loads_text('{"type": "message", ')
