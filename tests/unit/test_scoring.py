"""The scoring engine on the built-in checklists: worked examples and properties."""
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit_server.services.scoring import NA, iter_items, percent_of, score_answers

CHECKLISTS = Path(__file__).resolve().parents[2] / "checklists"
WALK_IN = json.loads((CHECKLISTS / "five_second_walk_in.json").read_text())
PHONE = json.loads((CHECKLISTS / "call_your_own_number.json").read_text())


def best(definition):
    values = {}
    for _, item in iter_items(definition):
        values[item["id"]] = {
            "yes_no": item.get("bad_answer") != "yes", "rating": 5, "count": 0, "seconds": 0,
            "text": "fine",
        }[item["type"]]
    return values


def test_walk_in_all_best_is_100():
    score = score_answers(WALK_IN, best(WALK_IN))
    assert score.percent == 100.0
    assert not score.critical_failed
    assert score.failed_items == []


def test_walk_in_not_greeted_is_80_and_critical():
    score = score_answers(WALK_IN, {**best(WALK_IN), "greeted_within_5s": False})
    assert score.percent == 80.0
    assert score.critical_failed
    assert score.failed_items == ["greeted_within_5s"]


def test_walk_in_queue_na_is_still_100():
    score = score_answers(WALK_IN, {**best(WALK_IN), "queue_managed": NA})
    assert score.percent == 100.0
    assert score.max_points == 14


def test_walk_in_overall_impression_3_is_93_3():
    score = score_answers(WALK_IN, {**best(WALK_IN), "overall_impression": 3})
    assert score.percent == 93.3
    assert score.failed_items == []  # half marks is not a failure


def test_rating_below_half_fails():
    score = score_answers(WALK_IN, {**best(WALK_IN), "overall_impression": 2})
    assert score.failed_items == ["overall_impression"]
    assert not score.critical_failed


def test_phone_unanswered_is_0_and_critical_and_nothing_else_applies():
    score = score_answers(PHONE, {"answered": False, "call_seconds": 40})
    assert score.percent == 0.0
    assert score.critical_failed
    assert score.failed_items == ["answered"]
    assert score.max_points == 3
    assert [r.item_id for r in score.items if r.applies] == ["answered", "call_seconds"]


def test_phone_answers_of_items_that_do_not_apply_are_ignored():
    answers = {**best(PHONE), "answered": False, "not_my_department": True}
    assert score_answers(PHONE, answers).percent == 0.0


def test_phone_all_best_is_100():
    assert score_answers(PHONE, best(PHONE)).percent == 100.0


@pytest.mark.parametrize("rings,points", [(0, 2), (3, 2), (4, 1), (5, 1), (6, 0), (40, 0)])
def test_rings_bands(rings, points):
    score = score_answers(PHONE, {**best(PHONE), "rings_to_answer": rings})
    result = next(r for r in score.items if r.item_id == "rings_to_answer")
    assert result.points == points
    assert result.failed == (points == 0)


@pytest.mark.parametrize("transfers,points", [(0, 2), (1, 2), (2, 1), (3, 0)])
def test_transfer_bands(transfers, points):
    score = score_answers(PHONE, {**best(PHONE), "transfers": transfers})
    assert next(r for r in score.items if r.item_id == "transfers").points == points


@pytest.mark.parametrize("seconds,points", [(0, 1), (30, 1), (30.5, 0.5), (90, 0.5), (90.1, 0), (600, 0)])
def test_hold_bands(seconds, points):
    score = score_answers(PHONE, {**best(PHONE), "hold_seconds": seconds})
    assert next(r for r in score.items if r.item_id == "hold_seconds").points == points


def test_not_my_department_yes_is_the_failure():
    good = score_answers(PHONE, {**best(PHONE), "not_my_department": False})
    bad = score_answers(PHONE, {**best(PHONE), "not_my_department": True})
    assert good.percent == 100.0
    assert bad.critical_failed and bad.failed_items == ["not_my_department"]
    assert bad.percent == percent_of(bad.max_points - 3, bad.max_points)


def test_section_subtotals():
    score = score_answers(PHONE, {**best(PHONE), "owned": False})
    sections = {s.id: s for s in score.sections}
    assert sections["reaching_someone"].percent == 100.0
    assert sections["getting_help"].max_points == 16
    assert sections["getting_help"].points == 13
    assert score.points == sum(s.points for s in score.sections)


def test_choice_items_score_by_option_points():
    definition = {"sections": [{"id": "s", "items": [{
        "id": "tidy", "type": "choice", "weight": 2, "options": [
            {"value": "spotless", "points": 4}, {"value": "ok", "points": 2}, {"value": "messy", "points": 0}],
    }]}]}
    assert score_answers(definition, {"tidy": "spotless"}).percent == 100.0
    assert score_answers(definition, {"tidy": "ok"}).percent == 50.0
    assert score_answers(definition, {"tidy": "messy"}).failed_items == ["tidy"]


def test_nothing_counted_gives_no_percent():
    definition = {"sections": [{"id": "s", "items": [
        {"id": "q", "type": "yes_no", "na_allowed": True}]}]}
    assert score_answers(definition, {"q": NA}).percent is None


def test_percent_rounds_half_up():
    assert percent_of(1, 8) == 12.5
    assert percent_of(1, 16) == 6.3  # 6.25 rounds up, not to even
    assert percent_of(2, 3) == 66.7


def answer_for(item):
    options = {
        "yes_no": st.booleans(), "rating": st.integers(1, 5),
        "count": st.integers(0, 100), "seconds": st.floats(0, 7200, allow_nan=False),
        "text": st.text(max_size=5),
    }[item["type"]]
    if item.get("na_allowed"):
        options = st.one_of(options, st.just(NA))
    return options


def answers_for(definition):
    return st.fixed_dictionaries({item["id"]: answer_for(item) for _, item in iter_items(definition)})


@settings(max_examples=300, deadline=None)
@given(st.one_of(answers_for(WALK_IN), answers_for(PHONE)))
def test_percent_stays_within_0_and_100(answers):
    definition = PHONE if "answered" in answers else WALK_IN
    score = score_answers(definition, answers)
    assert score.percent is None or 0 <= score.percent <= 100
    assert 0 <= score.points <= score.max_points
    assert score.critical_failed == any(
        r.critical for r in score.items if r.item_id in score.failed_items)


@settings(max_examples=300, deadline=None)
@given(answers_for(WALK_IN), answers_for(PHONE))
def test_na_never_lowers_a_score(walk_in, phone):
    """Marking an item N/A never scores lower than failing it would."""
    for definition, answers, item_id in ((WALK_IN, walk_in, "queue_managed"),
                                         (PHONE, phone, "warm_transfer"),
                                         (PHONE, phone, "follow_up_promised")):
        with_na = score_answers(definition, {**answers, item_id: NA})
        failed = score_answers(definition, {**answers, item_id: False})
        if with_na.percent is not None and failed.percent is not None:
            assert with_na.percent >= failed.percent
        assert with_na.critical_failed <= failed.critical_failed


@settings(max_examples=200, deadline=None)
@given(answers_for(PHONE))
def test_scoring_is_deterministic(answers):
    assert score_answers(PHONE, answers) == score_answers(PHONE, dict(reversed(answers.items())))
