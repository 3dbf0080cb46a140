"""The types of an understanding: what the dialogue knows (``NluContext``), one intent read
(``IntentResult``), the whole reading (``Understanding``), and the clause/reading the engine passes around."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .vocabulary import Vocabulary


@dataclass(frozen=True)
class NluContext:
    """What the dialogue knows that changes how a message reads.

    ``pending_confirmation``: the assistant just asked "shall I ...?", so "cancel" or "no" is a refusal,
    not "cancel my order". ``pending_clarification``: the slot the assistant asked for ("size", "color",
    "order_id", "product", "quantity", "address"); a bare answer then becomes ``provide_info``.
    """

    pending_confirmation: bool = False
    pending_clarification: str | None = None
    vocabulary: Vocabulary | None = None
    # Whether a code was given out as a recovery code (the pipeline passes the voice app's selector): a
    # bare "4F7K2Q" is then the code said on our call rather than an order number.
    recovery_code_known: Callable[[str], bool] | None = None

    @classmethod
    def from_state(cls, state: Mapping[str, Any], *, vocabulary: Vocabulary | None = None) -> NluContext:
        """From a dialogue-state mapping: ``pending_confirmation`` (anything truthy means one is pending)
        and ``pending_clarification`` (the slot name, or a mapping holding it under "slot")."""
        clarification = state.get("pending_clarification")
        if isinstance(clarification, Mapping):
            clarification = clarification.get("slot") or clarification.get("name")
        return cls(
            pending_confirmation=bool(state.get("pending_confirmation")),
            pending_clarification=str(clarification) if clarification else None,
            vocabulary=vocabulary,
        )


@dataclass(frozen=True)
class IntentResult:
    name: str
    slots: dict[str, Any] = field(default_factory=dict)
    confidence: float = 0.0
    text: str = ""  # the clause this intent was read from


@dataclass(frozen=True)
class Understanding:
    intents: list[IntentResult]
    confidence: float
    normalized_text: str
    corrections: dict[str, str] = field(default_factory=dict)

    @property
    def primary(self) -> IntentResult:
        return self.intents[0]

    @property
    def intent(self) -> str:
        return self.intents[0].name

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (Decimal prices as strings) for logging and the message store."""

        def plain(value: Any) -> Any:
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list | tuple):
                return [plain(v) for v in value]
            return value

        return {
            "intents": [
                {"name": i.name, "slots": plain(i.slots), "confidence": i.confidence} for i in self.intents
            ],
            "confidence": self.confidence,
            "normalizedText": self.normalized_text,
        }


@dataclass
class _Clause:
    text: str  # lower case, corrected, filler stripped
    raw: str  # before filler stripping
    cased: str  # as typed (for addresses and codes)
    question: bool


@dataclass
class _Reading:
    intent: str
    confidence: float
    strong: bool  # starts an action on its own (so the clause is not glued to the previous one)


# (check "c1".. or row "1".., intent, why it did not read the clause or what it read): for nlu_explain
Trace = list[tuple[str, str, str]]
