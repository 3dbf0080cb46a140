"""The planner: intents to steps, capped, confidence-gated, with the execution mode from settings."""

from __future__ import annotations

from conversations.assistant.nlu import IntentResult, Understanding, understand
from conversations.assistant.planner import ATOMIC, PARTIAL, plan
from conversations.assistant.state import State


def test_several_items_become_several_add_steps():
    p = plan(understand("add 2 running shoes and 1 hoodie"), State())
    assert [s.tool for s in p.steps] == ["add_to_cart", "add_to_cart"]
    assert [s.args.get("quantity") for s in p.steps] == [2, 1]
    assert p.mode == PARTIAL


def test_remove_and_show_are_two_steps_in_message_order():
    p = plan(understand("remove the socks and show my cart"), State())
    assert [(s.intent, s.tool) for s in p.steps] == [
        ("remove_from_cart", "remove_from_cart"),
        ("view_cart", "view_cart"),
    ]


def test_steps_over_the_cap_are_reported_as_skipped_not_dropped(settings):
    settings.ORCHESTRATOR_MAX_ACTIONS_PER_REQUEST = 2
    items = [{"product": f"thing {n}", "quantity": 1} for n in range(4)]
    understanding = Understanding([IntentResult("add_multiple_to_cart", {"items": items}, 0.9)], 0.9, "")
    p = plan(understanding, State())
    assert len(p.steps) == 2 and len(p.skipped) == 2
    assert all("at most 2" in s.reason for s in p.skipped)


def test_below_the_confidence_threshold_the_plan_is_a_question(settings):
    settings.LLM_PLANNER_MIN_CONFIDENCE = 0.9
    p = plan(understand("add the second one"), State())
    assert p.steps == [] and p.question


def test_atomic_mode_comes_from_settings(settings):
    settings.LLM_PLANNER_EXECUTION_MODE = "atomic"
    assert plan(understand("show my cart"), State()).mode == ATOMIC


def test_changing_a_lines_size_or_colour_moves_the_line_it_names():
    p = plan(understand("change it to size L"), State())
    assert [(s.intent, s.tool, s.args) for s in p.steps] == [
        ("update_cart", "change_cart_option", {"reference": "it", "to_size": "L"})
    ]
    p = plan(understand("change the jacket to a medium"), State())
    assert [(s.tool, s.args) for s in p.steps] == [
        ("change_cart_option", {"product": "jacket", "category": "jackets", "to_size": "M"})
    ]
