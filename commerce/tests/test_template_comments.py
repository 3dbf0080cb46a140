"""Django's ``{# ... #}`` comment is one line only: one that spans lines is rendered as page text (the
cart badge's comment in the header once did). Every template under ``templates/`` is read for one."""

from __future__ import annotations

import re
from pathlib import Path

from django.conf import settings

SPANNING_COMMENT = re.compile(r"\{#(?:(?!#\}).)*\n", re.DOTALL)


def test_no_template_has_a_comment_spanning_lines():
    templates = sorted(Path(settings.BASE_DIR, "templates").rglob("*.html"))
    assert templates
    spanning = [
        f"{path.relative_to(settings.BASE_DIR)}:{text[: found.start()].count(chr(10)) + 1}"
        for path in templates
        for text in [path.read_text(encoding="utf-8")]
        for found in SPANNING_COMMENT.finditer(text)
    ]
    assert spanning == [], "use {% comment %} ... {% endcomment %} for these"


def test_the_check_finds_a_spanning_comment_and_passes_a_one_line_one():
    assert SPANNING_COMMENT.search("<p>{# a note\n   that goes on #}</p>")
    assert not SPANNING_COMMENT.search("<p>{# one line #}</p>\n<p>{# another #}</p>\n")
