"""``make llm-eval``: the scenarios with a real model (skipped unless LLM_EVAL=1 and a model is named).

Run by ``make llm-eval`` with a key or a base URL in the environment; it prints the tables of
``llm_eval.py`` and judges nothing (a model's score is a figure to read, not a gate).
"""

from __future__ import annotations

import os

import pytest

from conversations.tests.nl_eval import llm_eval


def model_settings_from_environment() -> dict[str, object]:
    provider = os.environ.get("LLM_PROVIDER", "openai")
    named = {
        "LLM_PROVIDER": provider,
        "LLM_MODEL": os.environ.get("LLM_MODEL")
        or ("gpt-4o-mini" if provider == "openai" else "claude-haiku-4-5"),
    }
    for name in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL"):
        if os.environ.get(name):
            named[name] = os.environ[name]
    return named


@pytest.mark.django_db
@pytest.mark.skipif(os.environ.get("LLM_EVAL") != "1", reason="make llm-eval runs this with a model named")
def test_llm_eval_prints_both_tables():
    print("\n" + llm_eval.run(model_settings_from_environment()))
