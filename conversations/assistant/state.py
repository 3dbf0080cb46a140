"""Dialogue state of a conversation: what "the second one", "it" and "yes" refer to.

Read and written in the database on every turn (never kept on a socket), so a reconnect, another
tab or the REST API continue the same dialogue. The planner/executor reads :class:`State` and writes
changes back with the turn's reply (:func:`changes`).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from conversations.models import Conversation, DialogueState


@dataclass
class State:
    last_product_ids: list[int] = field(default_factory=list)
    last_cart_line_id: int | None = None
    last_order_number: str = ""
    pending_clarification: dict[str, Any] | None = None
    pending_confirmation: dict[str, Any] | None = None
    last_shown_options: dict[str, str] = field(default_factory=dict)
    # The fields as read from the database (None: never stored), so an unchanged state is not written.
    stored: dict[str, Any] | None = field(default=None, compare=False, repr=False)

    def show(self, product_ids: list[int], *, size: Any = None, color: Any = None) -> None:
        """Products just shown, and the size/colour the shopper asked for when searching them."""
        self.last_product_ids = list(product_ids)
        self.last_shown_options = {k: str(v) for k, v in (("size", size), ("color", color)) if v}

    def options_for(self, product_id: int) -> dict[str, str]:
        """The size/colour the shopper already chose for a product among those last shown."""
        return dict(self.last_shown_options) if product_id in self.last_product_ids else {}

    def product_at(self, ordinal: int) -> int | None:
        """The id of the n-th product last shown (1-based; -1 is the last one), or None."""
        ids = self.last_product_ids
        if ordinal == -1 and ids:
            return ids[-1]
        if 1 <= ordinal <= len(ids):
            return ids[ordinal - 1]
        return None


FIELDS = (
    "last_product_ids",
    "last_cart_line_id",
    "last_order_number",
    "pending_clarification",
    "pending_confirmation",
    "last_shown_options",
)


def load(conversation: Conversation) -> State:
    """The conversation's state: read with the conversation when it was loaded with its ``state``
    (``conversation_for_shopper(..., with_state=True)``: one query a message), else in a query."""
    if Conversation.state.is_cached(conversation):
        try:
            stored = conversation.state
        except DialogueState.DoesNotExist:
            return State()
        row = {name: getattr(stored, name) for name in FIELDS}
    else:
        row = DialogueState.objects.filter(conversation=conversation).values(*FIELDS).first()
        if row is None:
            return State()
    return State(**copy.deepcopy(row), stored=row)


def changes(state: State) -> dict[str, Any] | None:
    """The fields to write back at the turn's end, or None when the turn left the state as it was read
    (most turns ask no question). Written with the turn's reply (``services.chat_turn_recorded``)."""
    fields = {name: getattr(state, name) for name in FIELDS}
    return None if fields == state.stored else fields


def never_stored(state: State) -> bool:
    """No row was read for this state (the conversation's first turn, or every turn so far left it empty)."""
    return state.stored is None
