"""The API's body parsers.

``JSONParser`` is DRF's, with nesting too deep for Python's parser answered as a 400, not a 500.
``AnyContentJSONParser`` takes every other content type: with ``ENFORCE_JSON_CONTENT_TYPE`` on (the
default) it refuses them (415 ``unsupported_media_type``, as when no parser matches); off, a body that
is valid JSON is read as JSON whatever its declared type, and anything else still gets the 415.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import parsers
from rest_framework.exceptions import ParseError, UnsupportedMediaType


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as exc:
            raise ParseError("JSON parse error - the document is nested too deeply.") from exc


class AnyContentJSONParser(parsers.BaseParser):
    # Not a JSONParser subclass, so the schema (PARSER_WHITELIST) keeps documenting JSON bodies only.
    media_type = "*/*"

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        if settings.ENFORCE_JSON_CONTENT_TYPE:
            raise UnsupportedMediaType(str(media_type))
        try:
            return JSONParser().parse(stream, media_type, parser_context)
        except ParseError as exc:
            raise UnsupportedMediaType(str(media_type)) from exc
