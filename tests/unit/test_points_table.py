"""scoring.points_table: what the audit page adds up for its score so far. Read as the
page reads it (static/js/audit-form.js scoreSoFar), it gives score_answers' percent; the
browser test tests/browser/test_review_and_send_on_a_phone.py checks the page itself."""
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from audit_server.services.item_types import NA, type_of
from audit_server.services.scoring import iter_items, points_table, score_answers

CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"
WALK_IN = json.loads((CHECKLISTS / "five_second_walk_in.json").read_text())
PHONE = json.loads((CHECKLISTS / "call_your_own_number.json").read_text())
# Weights and points that are not whole, and a band at a fraction of a second.
ODD = {"sections": [{"id": "s", "items": [
    {"id": "tidy", "type": "choice", "weight": 1.5, "options": [
        {"value": "spotless", "points": 3, "label": {"en": "Spotless"}},
        {"value": "ok", "points": 1.25, "label": {"en": "OK"}}, {"value": "messy", "points": 0, "label": {"en": "Messy"}}]},
    {"id": "wait", "type": "seconds", "weight": 0.7, "na_allowed": True, "bands": [
        {"max": 12.5, "fraction": 1}, {"max": 40, "fraction": 0.3}, {"fraction": 0}]},
    {"id": "kind", "type": "rating", "weight": 3},
    {"id": "greeted", "type": "yes_no", "weight": 0.1, "critical": True},
    {"id": "ignored", "type": "yes_no", "weight": 0},
    {"id": "people", "type": "count"},
]}]}


def page_percent(definition, answers):
    """The page's sum: each applying answered item's points over its max, in whole numbers,
    rounded half up to one decimal as audit-form.js rounds them."""
    table = points_table(definition)
    applying = {r.item_id for r in score_answers(definition, answers).items if r.applies}
    points = maximum = 0
    for _, item in iter_items(definition):
        value, earns = answers.get(item["id"]), table.get(item["id"])
        if earns is None or item["id"] not in applying or value is None or value == NA:
            continue
        if type_of(item).widget == "number":
            points += next(p for above, up_to, p in earns.bands
                           if (above is None or value > above) and (up_to is None or value <= up_to))
        else:
            form = next(f for f, v, _ in type_of(item).choices(item) if v == value)
            points += earns.by_choice[form]
        maximum += earns.max
    return (2000 * points + maximum) // (2 * maximum) / 10 if maximum else None


def answer_for(item):
    options = {
        "yes_no": st.booleans(), "rating": st.integers(1, 5), "count": st.integers(0, 100),
        "seconds": st.floats(0, 7200, allow_nan=False) | st.sampled_from([12.5, 40, 30, 90]),
        "text": st.text(max_size=5),
        "choice": st.sampled_from([o["value"] for o in item.get("options", [])] or [None]),
    }[item["type"]]
    if item.get("na_allowed"):
        options = st.one_of(options, st.just(NA))
    return st.one_of(options, st.none()) if not item.get("critical") else options


def answers_for(definition):
    return st.fixed_dictionaries({item["id"]: answer_for(item) for _, item in iter_items(definition)})


def test_every_entry_is_a_whole_number_of_the_checklist_s_scale():
    table = points_table(ODD)
    assert set(table) == {"tidy", "wait", "kind", "greeted"}  # weight 0 and unbanded: unscored
    for earns in table.values():
        numbers = [earns.max, *earns.by_choice.values(), *(band[2] for band in earns.bands)]
        assert all(isinstance(n, int) and 0 <= n <= earns.max for n in numbers)
    assert table["tidy"].by_choice == {"spotless": table["tidy"].max, "ok": table["tidy"].max * 5 // 12,
                                       "messy": 0}
    assert "na" not in table["wait"].by_choice


@settings(max_examples=400, deadline=None)
@given(st.one_of(answers_for(WALK_IN), answers_for(PHONE), answers_for(ODD)))
def test_the_page_s_sum_is_the_server_s_score(answers):
    definition = PHONE if "answered" in answers else WALK_IN if "smile" in answers else ODD
    answers = {k: v for k, v in answers.items() if v is not None}
    assert page_percent(definition, answers) == score_answers(definition, answers).percent
