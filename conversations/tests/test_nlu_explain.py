"""``manage.py nlu_explain``: the normalised text, the row that read each clause, why the rows before it
did not, and the intents with their slots and confidence."""

from __future__ import annotations

from io import StringIO

from django.core.management import call_command

from conversations.assistant.nlu import ROWS
from conversations.assistant.nlu.explain import explain


def _explained(text: str, *args: str) -> str:
    out = StringIO()
    call_command("nlu_explain", text, *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_normalised_text_the_row_the_rows_before_and_the_slots():
    output = _explained("hey can you add 2 runing shoes and show my cart")
    assert "normalised: 'hey can you add 2 running shoes and show my cart'" in output
    assert "corrected: runing -> running" in output
    add_row = next(n for n, row in enumerate(ROWS, start=1) if row.intent == "add*")
    assert f"row {add_row:>2} add*" in output and "READ: pattern 1 matched" in output
    assert "row  1 refuse:instructions      no pattern matched" in output
    assert "check 13 deny                     'no, said otherwise': skipped" in output
    assert "search_and_add_to_cart confidence" in output and "'quantity': 2" in output
    assert "view_cart confidence 0.9" in output


def test_an_unless_pattern_is_named_when_it_vetoes_a_row():
    clause = explain("what do i wear when it rains?").clauses[0]
    vetoed = [why for _, intent, why in clause.rows if intent == "save_preference"]
    assert len(vetoed) == 1 and vetoed[0].endswith("matched, unless 1 vetoed it")
    assert "save_preference          pattern" in _explained("what do i wear when it rains?")


def test_the_exceptions_moved_out_of_the_patterns_are_shown_as_vetoes():
    for text, intent, veto in [
        ("is my issue resolved", "support_close", 1),
        ("update my email address", "change_order_address", 1),
        ("i need help with my tax refund", "request_refund", 1),
        ("tell me the return policy", "request_refund", 2),
        ("delete everything from my shopping list", "clear_cart", 1),
    ]:
        whys = [why for _, name, why in explain(text).clauses[0].rows if name == intent]
        assert whys and whys[0].endswith(f"unless {veto} vetoed it"), (text, whys)


def test_whole_clause_checks_and_the_pending_question_are_explained():
    output = _explained("yes please")
    assert "check  1 deny                     'no': no match" in output
    assert "check  2 confirm                  READ: 'yes' -> confirm" in output
    assert "row " not in output  # read before the table
    assert "skipped: the clause names something to act on" in _explained("where is my order")
    assert "deny confidence 0.95" in _explained("cancel", "--pending-confirmation")
    assert "READ: 'no' -> cancel*" in _explained("cancel")  # nothing pending: cancel what?
