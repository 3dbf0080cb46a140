"""Serializer fields for API input that take exactly the JSON type the schema documents."""

from __future__ import annotations

from typing import Any

from rest_framework import serializers


class TextField(serializers.CharField):
    """A JSON string only: DRF's CharField would turn 42 or 1.5 into text and accept it, although the
    schema says ``type: string`` (schemathesis: a schema-violating request accepted)."""

    def to_internal_value(self, data: Any) -> str:
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class JSONBooleanField(serializers.BooleanField):
    """A JSON true or false only: DRF's BooleanField also reads "yes", "1", 1 and the like."""

    def to_internal_value(self, data: Any) -> bool:
        if not isinstance(data, bool):
            self.fail("invalid", input=data)
        return data
