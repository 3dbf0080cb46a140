"""The sales assistant: understanding (nlu), planning, tools, execution and replies.

See ../shared/ARCHITECTURE.md ("The assistant") for the modules. Only the NLU is imported here because it
is pure Python and has no Django dependency.
"""

from .nlu import IntentResult, NluContext, Understanding, Vocabulary, understand

__all__ = ["IntentResult", "NluContext", "Understanding", "Vocabulary", "understand"]
