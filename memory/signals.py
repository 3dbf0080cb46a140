"""Signals the memory app sends to other apps (connected in their ``ready()``)."""

from django.dispatch import Signal

# Sent after a shopper's conversation history was forgotten (``history_clear``/``memory_clear``), with
# ``user``: the conversations app then marks what was said so far as summarized, so a visit going on
# is not summarized afterwards from text the shopper asked to forget.
history_forgotten = Signal()
