"""The intent table (``intents.SPECS``): one spec per intent, read by the understanding and both planners."""

from __future__ import annotations

import pytest

from conversations.assistant import nlu
from conversations.assistant.intents import CONVERSATION, SPECS, WRITES, Intent, spec_for
from conversations.assistant.planner import plan
from conversations.assistant.state import State
from conversations.assistant.tools import REGISTRY


def test_every_intent_has_exactly_one_spec_and_the_understanding_knows_only_those():
    assert set(SPECS) == set(Intent)
    assert {str(i) for i in Intent} == nlu.INTENTS
    assert {str(s.name) for s in SPECS.values() if s.kind == WRITES} == nlu.ACTION_INTENTS


@pytest.mark.parametrize("intent", [s for s in SPECS.values() if s.tool], ids=lambda s: str(s.name))
def test_each_specs_tool_is_registered_and_writes_match_the_tools(intent):
    tool = REGISTRY[intent.tool]
    if tool.confirm:
        assert intent.kind == WRITES, "a tool that waits for a yes changes something"


@pytest.mark.parametrize(
    ("intent", "example"),
    [(s.name, e) for s in SPECS.values() for e in s.examples],
    ids=lambda v: str(v),
)
def test_each_example_is_read_as_its_intent(intent, example):
    assert nlu.understand(example).intents[0].name == intent


def test_every_tool_intent_has_examples_and_conversation_has_no_tool():
    for spec in SPECS.values():
        if spec.kind == CONVERSATION:
            assert not spec.tool and spec.arguments is None
        else:
            assert spec.examples, f"{spec.name} needs examples"


def test_an_unknown_intent_name_is_not_doable_instead_of_silently_answered():
    assert spec_for("add_to_kart") is None
    reading = nlu.Understanding([nlu.IntentResult("add_to_kart", {}, 0.9, "add")], 0.9, "add")
    planned = plan(reading, State(), "add")
    assert planned.steps == [] and planned.skipped[0].reason


@pytest.mark.django_db
def test_a_spec_maps_slots_to_its_tools_arguments_and_they_fit_the_schema():
    from conversations.assistant.executor import refusal

    reading = nlu.understand("show me black running shoes under $150 in size 10")
    planned = plan(reading, State(), "show me black running shoes under $150 in size 10")
    step = planned.steps[0]
    assert step.tool == "search_products" and step.args["size"] == "10" and step.args["max_price"] == "150"
    assert refusal(step) is None
