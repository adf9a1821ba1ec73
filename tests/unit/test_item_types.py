"""The table of item types: each type's validation, scoring, failure and widget; the
checklist schema agrees with it; and the engine scores exactly as it did before it."""
import json
from fractions import Fraction
from pathlib import Path

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_server.services import item_types
from audit_server.services.checklists import definition_errors, file_schema
from audit_server.services.item_types import NA, TYPES, fails, item_fraction, value_error, widget
from audit_server.services.scoring import score_answers

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = file_schema()

TEXT = {"es": "Texto", "en": "Text"}
OPTIONS = [{"value": "spotless", "label": {"es": "Impecable", "en": "Spotless"}, "points": 4},
           {"value": "ok", "label": {"es": "Bien", "en": "OK"}, "points": 2},
           {"value": "messy", "label": {"es": "Desordenado", "en": "Messy"}, "points": 0}]
RINGS = [{"max": 3, "fraction": 1}, {"max": 5, "fraction": 0.5}, {"fraction": 0}]
HOLD = [{"max": 30, "fraction": 0}, {"max": 90.5, "fraction": 1}, {"fraction": 0.25}]


def item(kind, **settings):
    return {"id": "q", "type": kind, "label": TEXT, **settings}


@pytest.mark.parametrize("it,value,error", [
    (item("yes_no"), True, None),
    (item("yes_no"), "yes", "Must be true or false."),
    (item("yes_no"), 1, "Must be true or false."),
    (item("rating"), 1, None),
    (item("rating"), 5.0, None),
    (item("rating"), 0, "Must be a whole number from 1 to 5."),
    (item("rating"), 2.5, "Must be a whole number from 1 to 5."),
    (item("rating"), True, "Must be a whole number from 1 to 5."),
    (item("rating"), "3", "Must be a whole number from 1 to 5."),
    (item("count", max=100), 100, None),
    (item("count", max=100), 101, "Must be between 0 and 100."),
    (item("count", max=100), -1, "Must be between 0 and 100."),
    (item("count", max=100), 2.5, "Must be a whole number."),
    (item("count"), 1000, None),
    (item("count"), 1001, "Must be between 0 and 1000."),
    (item("count"), False, "Must be a whole number."),
    (item("seconds"), 30.5, None),
    (item("seconds"), 86401, "Must be between 0 and 86400."),
    (item("seconds", max=7200), 7200.5, "Must be between 0 and 7200."),
    (item("seconds"), "30", "Must be a number of seconds."),
    (item("seconds"), float("nan"), "Must be a number of seconds."),
    (item("seconds"), float("inf"), "Must be a number of seconds."),
    (item("choice", options=OPTIONS), "ok", None),
    (item("choice", options=OPTIONS), "great", "Must be one of: spotless, ok, messy."),
    (item("choice", options=OPTIONS), 1, "Must be one of: spotless, ok, messy."),
    (item("text"), "Amable, «un poco lento» 🙂", None),
    (item("text"), 5, "Must be text."),
    (item("text"), "x" * 2001, "Must be at most 2000 characters."),
])
def test_every_type_checks_its_values(it, value, error):
    assert value_error(it, value) == error


@pytest.mark.parametrize("it,value,fraction,failed", [
    (item("yes_no"), True, 1, False),
    (item("yes_no"), False, 0, True),
    (item("yes_no", bad_answer="yes"), True, 0, True),
    (item("yes_no", bad_answer="yes"), False, 1, False),
    (item("rating"), 1, 0, True),
    (item("rating"), 2, Fraction(1, 4), True),
    (item("rating"), 3, Fraction(1, 2), False),  # half marks is not a failure
    (item("rating"), 5, 1, False),
    (item("count", bands=RINGS), 3, 1, False),
    (item("count", bands=RINGS), 4, Fraction(1, 2), False),
    (item("count", bands=RINGS), 6, 0, True),
    (item("seconds", bands=HOLD), 30, 0, True),
    (item("seconds", bands=HOLD), 30.25, 1, False),
    (item("seconds", bands=HOLD), 90.5, 1, False),
    (item("seconds", bands=HOLD), 90.6, Fraction(1, 4), True),
    (item("choice", options=OPTIONS), "spotless", 1, False),
    (item("choice", options=OPTIONS), "ok", Fraction(1, 2), False),
    (item("choice", options=OPTIONS), "messy", 0, True),
])
def test_every_scored_type_earns_a_share_and_fails_below_half(it, value, fraction, failed):
    assert item_types.is_scored(it)
    assert item_fraction(it, value) == fraction
    assert fails(it, value) is failed


@pytest.mark.parametrize("it", [
    item("text"), item("count"), item("seconds"), item("yes_no", weight=0),
    item("count", bands=RINGS, weight=0),
])
def test_unscored_items_never_fail(it):
    assert not item_types.is_scored(it)
    assert not any(fails(it, value) for value in (False, 0, 1000, "", "x"))


def test_text_has_no_score():
    with pytest.raises(ValueError):
        item_fraction(item("text"), "x")


@pytest.mark.parametrize("kind", ["yes_no", "choice", "rating"])
def test_na_and_no_answer_never_fail(kind):
    it = item(kind, options=OPTIONS, na_allowed=True) if kind == "choice" else item(kind, na_allowed=True)
    assert not fails(it, NA) and not fails(it, None)


def test_what_needs_an_answer():
    assert item_types.is_required(item("yes_no")) and not item_types.is_required(item("text"))
    assert item_types.is_required(item("text", required=True))
    assert not item_types.is_required(item("count", required=False))
    assert item_types.is_unanswered(item("text"), "  \n") and not item_types.is_unanswered(item("text"), "x")
    assert not item_types.is_unanswered(item("yes_no"), "  ")  # not blank: a wrong answer
    assert item_types.is_unanswered(item("count"), None)


def choices_of(it):
    return [(c.form_value, c.value, str(c.label) if not isinstance(c.label, dict) else c.label["en"], c.fails)
            for c in widget(it)["choices"]]


def test_choice_widgets_say_which_answers_fail(app):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        assert choices_of(item("yes_no")) == [("yes", True, "Yes", False), ("no", False, "No", True)]
        assert choices_of(item("yes_no", bad_answer="yes", na_allowed=True)) == [
            ("yes", True, "Yes", True), ("no", False, "No", False), ("na", "na", "N/A", False)]
        assert choices_of(item("yes_no", weight=0)) == [("yes", True, "Yes", False), ("no", False, "No", False)]
        assert choices_of(item("rating")) == [
            ("1", 1, "1", True), ("2", 2, "2", True), ("3", 3, "3", False), ("4", 4, "4", False),
            ("5", 5, "5", False)]
        assert choices_of(item("choice", options=OPTIONS)) == [
            ("spotless", "spotless", "Spotless", False), ("ok", "ok", "OK", False),
            ("messy", "messy", "Messy", True)]
    with app.test_request_context(headers={"Accept-Language": "es"}):
        assert [label for _, _, label, _ in choices_of(item("yes_no", na_allowed=True))] == ["Sí", "No", "N/A"]


def test_number_and_text_widgets():
    assert widget(item("count", max=100, bands=RINGS)) == {
        "kind": "number", "min": 0, "max": 100, "step": 1, "fails": [[5, None]]}
    assert widget(item("seconds", bands=HOLD)) == {
        "kind": "number", "min": 0, "max": 86400, "step": 1, "fails": [[None, 30], [90.5, None]]}
    assert widget(item("count"))["fails"] == []  # no bands: never fails
    assert widget(item("count", bands=RINGS, weight=0))["fails"] == []
    assert widget(item("text")) == {"kind": "text", "maxlength": 2000}


def in_ranges(ranges, value):
    """How audit-form.js reads a number widget's failing ranges."""
    return any((above is None or value > above) and (up_to is None or value <= up_to)
               for above, up_to in ranges)


@st.composite
def banded_items(draw):
    maxima = sorted(set(draw(st.lists(st.one_of(st.integers(0, 60), st.sampled_from([0.5, 2.25, 30.1])),
                                      max_size=4))))
    fractions = st.sampled_from([0, 0.25, 0.49, 0.5, 0.75, 1])
    bands = [{"max": m, "fraction": draw(fractions)} for m in maxima] + [{"fraction": draw(fractions)}]
    return item(draw(st.sampled_from(["count", "seconds"])), bands=bands,
                weight=draw(st.sampled_from([0, 1, 2.5])))


@settings(max_examples=300, deadline=None)
@given(banded_items(), st.lists(st.one_of(st.integers(0, 70), st.floats(0, 70)), min_size=1, max_size=20))
def test_the_failing_ranges_a_page_gets_are_the_scoring_rule(it, values):
    ranges = widget(it)["fails"]
    for value in values + [b["max"] for b in it["bands"] if "max" in b]:
        assert in_ranges(ranges, value) == fails(it, value), (it, value)


def test_the_schema_lists_exactly_the_types_of_the_table():
    assert set(SCHEMA["$defs"]["item"]["properties"]["type"]["enum"]) == set(TYPES)


MINIMAL = {"choice": {"options": OPTIONS[:2]}, "count": {"bands": RINGS}, "seconds": {"bands": RINGS}}
SAMPLES = {"bad_answer": "yes", "bands": RINGS, "max": 10, "options": OPTIONS,
           "weight": 2, "critical": True, "photo_when_failed": True}
SCORED_SETTINGS = {"weight", "critical", "photo_when_failed"}


def schema_accepts(it):
    definition = {"id": "c", "kind": "other", "title": TEXT,
                  "sections": [{"id": "s", "title": TEXT, "items": [it]}]}
    return jsonschema.Draft202012Validator(SCHEMA).is_valid(definition)


@pytest.mark.parametrize("kind", sorted(TYPES))
@pytest.mark.parametrize("setting", sorted(SAMPLES))
def test_the_schema_takes_the_settings_the_table_gives_each_type(kind, setting):
    """A type's own settings (bad_answer, bands, max, options), and those of scoring,
    are accepted for the types the table gives them to, and refused for the others."""
    it = item(kind, **MINIMAL.get(kind, {}))
    assert schema_accepts(it)
    takes = (setting in TYPES[kind].settings if setting not in SCORED_SETTINGS
             else TYPES[kind].fraction is not None)
    assert schema_accepts({**it, setting: SAMPLES[setting]}) == takes


def definition(*items):
    return {"id": "c", "kind": "other", "title": TEXT,
            "sections": [{"id": "s", "title": TEXT, "items": list(items)}]}


@pytest.mark.parametrize("first,equals,words", [
    (item("yes_no"), "yes", "never an answer to 'first': Must be true or false."),
    (item("rating"), 6, "Must be a whole number from 1 to 5."),
    (item("choice", options=OPTIONS), "great", "Must be one of"),
    (item("yes_no", na_allowed=True), "na", "N/A is never a condition."),
])
def test_a_condition_must_be_a_possible_answer(first, equals, words):
    errors = definition_errors(definition(
        {**first, "id": "first"}, item("yes_no", applies_if={"item": "first", "equals": equals})))
    assert [(p, m) for p, m in errors if words in m] == [
        ("$.sections[0].items[1].applies_if.equals", errors[0][1])], errors


def test_a_condition_on_a_possible_answer_is_fine():
    assert definition_errors(definition(
        {**item("count", max=10), "id": "first"},
        item("yes_no", applies_if={"item": "first", "equals": 0}))) == []


def fraction_text(value):
    return None if value is None else str(value)


CASES = json.loads((ROOT / "tests" / "data" / "scored_checklists.json").read_text())


@pytest.mark.parametrize("case", CASES, ids=[f"case{n}" for n in range(len(CASES))])
def test_scores_are_what_the_engine_gave_before_the_table(case):
    """tests/data/scored_checklists.json: random checklists (every type, decimal weights,
    bands, options, conditions) and answers, with the scores the engine gave them before
    the item types moved into one table (commit 04e958b)."""
    score = score_answers(case["definition"], case["answers"])
    assert {
        "points": fraction_text(score.points), "max_points": fraction_text(score.max_points),
        "percent": score.percent, "critical_failed": score.critical_failed,
        "failed_items": score.failed_items,
        "sections": [[s.id, fraction_text(s.points), fraction_text(s.max_points)] for s in score.sections],
        "items": [[r.item_id, r.applies, fraction_text(r.points), fraction_text(r.max_points), r.failed]
                  for r in score.items],
    } == case["score"]
