"""The pure rules of corrective actions: status moves and deadlines."""
from datetime import datetime, timedelta, timezone

import pytest

from audit_server.services.actions import MOVES, check_move, due_at_for
from audit_server.services.errors import InvalidInput

UTC = timezone.utc
# 20:00 UTC is 21:00 in Madrid (UTC+1 in November) and 14:00 in Mexico City (UTC-6).
FAILED_AT = datetime(2026, 11, 10, 20, 0, tzinfo=UTC)

LEGAL = [(a, b) for a, targets in MOVES.items() for b in targets]
ILLEGAL = [(a, b) for a in MOVES for b in MOVES if (a, b) not in LEGAL]


@pytest.mark.parametrize("current, wanted", LEGAL)
def test_legal_moves_pass(current, wanted):
    check_move(current, wanted)


def test_the_documented_moves():
    assert MOVES == {
        "open": ("in_progress", "done"),
        "in_progress": ("done",),
        "reopened": ("in_progress", "done"),
        "done": ("verified", "reopened"),
        "verified": (),
    }


@pytest.mark.parametrize("current, wanted", ILLEGAL)
def test_illegal_moves_name_the_allowed_ones(current, wanted):
    with pytest.raises(InvalidInput) as caught:
        check_move(current, wanted)
    message = caught.value.message
    assert caught.value.fields == {"status": [message]}
    if current == "verified":
        assert message == "A verified action is final: its status cannot change."
    else:
        assert message == (f"An action that is {current} cannot become {wanted}; "
                           f"it can move to: {', '.join(MOVES[current])}.")


def test_critical_items_are_due_in_exactly_24_hours():
    item = {"id": "greeted", "critical": True}
    for zone in ("Europe/Madrid", "America/Mexico_City"):
        assert due_at_for(FAILED_AT, item, zone) == FAILED_AT + timedelta(hours=24)


def test_seven_day_deadlines_end_at_the_end_of_the_local_day():
    item = {"id": "smile"}
    madrid = due_at_for(FAILED_AT, item, "Europe/Madrid")
    mexico = due_at_for(FAILED_AT, item, "America/Mexico_City")
    # 17 Nov 23:59:59 in Madrid (UTC+1) and in Mexico City (UTC-6).
    assert madrid == datetime(2026, 11, 17, 22, 59, 59, tzinfo=UTC)
    assert mexico == datetime(2026, 11, 18, 5, 59, 59, tzinfo=UTC)


def test_the_local_day_is_the_one_the_deadline_falls_on():
    # 23:30 UTC is already the next day in Madrid but still the same day in Mexico City.
    late = datetime(2026, 11, 10, 23, 30, tzinfo=UTC)
    assert due_at_for(late, {"id": "x"}, "Europe/Madrid") == datetime(2026, 11, 18, 22, 59, 59,
                                                                      tzinfo=UTC)
    assert due_at_for(late, {"id": "x"}, "America/Mexico_City") == datetime(2026, 11, 18, 5, 59, 59,
                                                                            tzinfo=UTC)


def test_daylight_saving_changes_keep_the_local_end_of_day():
    # Madrid moves to summer time on 29 March 2026: the deadline is 23:59:59 CEST (UTC+2).
    failed = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)
    assert due_at_for(failed, {"id": "x"}, "Europe/Madrid") == datetime(2026, 4, 1, 21, 59, 59,
                                                                        tzinfo=UTC)


def test_the_checklist_item_can_set_the_deadline():
    assert due_at_for(FAILED_AT, {"id": "x", "critical": True, "action_due_hours": 4},
                      "Europe/Madrid") == FAILED_AT + timedelta(hours=4)
    # Longer than a day: to the end of the local day it falls on (12 Nov 23:59:59 in Madrid).
    assert due_at_for(FAILED_AT, {"id": "x", "action_due_hours": 48}, "Europe/Madrid") == \
        datetime(2026, 11, 12, 22, 59, 59, tzinfo=UTC)
