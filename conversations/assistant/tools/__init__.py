"""The assistant's tools: the registry, then one module per domain.

Importing this package registers every tool. The chat's rules, a model's tool calls and the MCP server
all reach the store through these tools and nothing else (``registry.py`` says what a tool is).
"""

from conversations.assistant.tools import (  # noqa: F401
    cart,
    catalog,
    memory,
    orders,
    policies,
    recovery,
    support,
)
from conversations.assistant.tools.registry import (
    REGISTRY,
    InvalidArguments,
    Preview,
    Tool,
    ToolContext,
    ToolResult,
    get_tool,
    schema_mismatches,
    sign_in_link,
    tool_schemas,
    validated_args,
)

__all__ = [
    "REGISTRY",
    "InvalidArguments",
    "Preview",
    "Tool",
    "ToolContext",
    "ToolResult",
    "get_tool",
    "schema_mismatches",
    "sign_in_link",
    "tool_schemas",
    "validated_args",
]
