"""The store's policies (shipping, returns, sizing, payment), as staff wrote them in the admin."""

from __future__ import annotations

from conversations import selectors
from conversations.assistant.reply import SKIPPED, SUCCEEDED
from conversations.assistant.tools.registry import ToolContext, ToolResult, object_schema, tool
from conversations.models import StorePolicy

CANNOT_HELP = (
    "I can't help with that, but I can find products, change your cart and check out, look after your "
    "orders, remember what you like, answer questions about shipping, returns, sizing and payment, or "
    'open a support ticket for you. Say "help" for examples.'
)
DEFAULT_SUGGESTIONS = ["Show me running shoes", "What is your return policy?", "Talk to a person"]
TOPICS = list(StorePolicy.Topic.values)


@tool(
    "store_policy",
    "Answer a question about the store's policies (shipping, returns, sizing, payment) from the policies "
    "staff wrote. Always use it for such questions rather than answering from memory.",
    object_schema(
        {
            "question": {
                "type": "string",
                "minLength": 1,
                "maxLength": 4000,
                "description": "the shopper's question",
            },
            "topic": {"type": "string", "enum": TOPICS},
        },
        ("question",),
    ),
    intent="general_question",
)
def store_policy(ctx: ToolContext, question: str, topic: str | None = None) -> ToolResult:
    policy = selectors.policy_answer(text=question, topic=topic)
    if policy is None:
        return ToolResult(
            SKIPPED, "No store policy answers this.", text=CANNOT_HELP, suggestions=DEFAULT_SUGGESTIONS
        )
    return ToolResult(
        SUCCEEDED,
        f'Answered from the store policy "{policy.title}".',
        text=policy.answer,
        suggestions=["Show me running shoes", "Talk to a person"],
    )
