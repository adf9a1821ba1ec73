"""What is due: the state of each location per checklist on its own clock (done for this
period, due, overdue by N days), set cadences, and the region report's coverage, on
SQLite and PostgreSQL. Audits are submitted through the API at chosen instants; the
service is asked at a chosen `now`."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, Cadence, ChecklistVersion
from audit_server.services import cadence, reports
from audit_server.services.checklists import content_version, current_checklists
from audit_server.services.errors import InvalidInput, NotFound
from tests.helpers import PHONE_CALL, WALK_IN, submit


def utc(text):
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def user(organisation, role="admin"):
    return db.session.merge(organisation.users[role])


def due(organisation, code, now, role="admin"):
    """{checklist_id: state} of a location at `now`."""
    found = cadence.location_due(user(organisation, role), organisation.locations[code], now=now)
    return {row["checklist_id"]: row for row in found["checklists"]}


def test_the_defaults_walk_in_every_7_days_phone_every_14(client, organisation):
    submit(client, organisation, location="N1", at=utc("2026-11-20 10:00"))
    submit(client, organisation, location="N1", at=utc("2026-11-20 10:05"), checklist=PHONE_CALL)
    states = due(organisation, "N1", utc("2026-11-27 10:00"))  # 7 days on
    assert states[WALK_IN] | {"title": None} == {
        "checklist_id": WALK_IN, "kind": "walk_in", "title": None, "cadence_days": 7,
        "state": "due", "last_audit_date": date(2026, 11, 20), "days_since_last": 7,
        "next_due": date(2026, 11, 27), "overdue_days": 0, "never_audited": False}
    assert (states[PHONE_CALL]["cadence_days"], states[PHONE_CALL]["state"],
            states[PHONE_CALL]["next_due"]) == (14, "done", date(2026, 12, 4))


def test_done_due_and_overdue_across_a_week_boundary(client, organisation):
    # Sunday 22 November, 23:30 in Madrid: the audit's day is that Sunday, though the
    # Monday-to-Sunday week ends an half hour later. Cadences roll: weeks play no part.
    submit(client, organisation, location="N1", at=utc("2026-11-22 22:30"))
    expected = {
        "2026-11-23 08:00": ("done", 1, 0),     # Monday: a new week, still done
        "2026-11-28 22:59": ("done", 6, 0),     # Saturday 23:59 in Madrid
        "2026-11-28 23:00": ("due", 7, 0),      # Sunday 00:00 in Madrid: due today
        "2026-11-29 22:59": ("due", 7, 0),      # Sunday 23:59
        "2026-11-29 23:00": ("overdue", 8, 1),  # Monday 00:00: overdue by 1 day
        "2026-12-02 12:00": ("overdue", 10, 3),
    }
    for now, (state, since, overdue) in expected.items():
        row = due(organisation, "N1", utc(now))[WALK_IN]
        assert (row["state"], row["days_since_last"], row["overdue_days"]) == (state, since, overdue), now
        assert row["next_due"] == date(2026, 11, 29)


def test_each_location_is_on_its_own_clock(client, organisation):
    # One instant, two clocks: Monday 00:30 in Madrid (N1), Sunday 17:30 in Mexico City (S1).
    moment = utc("2026-11-22 23:30")
    submit(client, organisation, location="N1", at=moment)
    submit(client, organisation, role="manager_s", location="S1", at=moment)
    now = utc("2026-11-29 12:00")  # Sunday: 13:00 in Madrid, 06:00 in Mexico City
    n1, s1 = due(organisation, "N1", now)[WALK_IN], due(organisation, "S1", now)[WALK_IN]
    assert (n1["last_audit_date"], n1["state"], n1["next_due"]) == (date(2026, 11, 23), "done",
                                                                  date(2026, 11, 30))
    assert (s1["last_audit_date"], s1["state"], s1["next_due"]) == (date(2026, 11, 22), "due",
                                                                  date(2026, 11, 29))
    later = utc("2026-11-30 23:30")  # Tuesday 00:30 in Madrid, Monday 17:30 in Mexico City
    assert (due(organisation, "N1", later)[WALK_IN]["overdue_days"],
            due(organisation, "S1", later)[WALK_IN]["overdue_days"]) == (1, 1)


def test_a_location_never_audited_is_due_from_today(client, organisation):
    submit(client, organisation, location="N1", at=utc("2026-11-20 10:00"))  # another location
    row = due(organisation, "N2", utc("2026-11-25 23:30"))[WALK_IN]  # 00:30 on the 26th in Madrid
    assert row | {"title": None} == {
        "checklist_id": WALK_IN, "kind": "walk_in", "title": None, "cadence_days": 7,
        "state": "due", "last_audit_date": None, "days_since_last": None,
        "next_due": date(2026, 11, 26), "overdue_days": 0, "never_audited": True}


def test_an_audit_of_an_older_version_of_the_checklist_counts(client, organisation):
    """The cadence names the checklist by its id, which its versions share."""
    audit = submit(client, organisation, location="N1", at=utc("2026-11-18 10:00"))
    older = dict(current_checklists()[WALK_IN].definition, intro={"es": "Antes", "en": "Before"})
    db.session.merge(ChecklistVersion(checklist_id=WALK_IN, version=content_version(older),
                                      kind="walk_in", definition=older))
    db.session.execute(sa.update(Audit).where(Audit.id == uuid.UUID(audit["id"]))
                       .values(checklist_version=content_version(older)))
    db.session.commit()
    cadence.set_cadence("N", WALK_IN, 3)
    row = due(organisation, "N1", utc("2026-11-20 10:00"))[WALK_IN]
    assert (row["last_audit_date"], row["cadence_days"], row["state"]) == (
        date(2026, 11, 18), 3, "done")


def test_a_cadence_changed_mid_period_applies_from_the_latest_audit(client, organisation):
    submit(client, organisation, location="N1", at=utc("2026-11-20 10:00"))
    submit(client, organisation, role="manager_s", location="S1", at=utc("2026-11-20 16:00"))
    now = utc("2026-11-25 10:00")  # 5 days on
    assert due(organisation, "N1", now)[WALK_IN]["state"] == "done"
    cadence.set_cadence("N", WALK_IN, 3)
    row = due(organisation, "N1", now)[WALK_IN]
    assert (row["cadence_days"], row["state"], row["overdue_days"], row["next_due"]) == (
        3, "overdue", 2, date(2026, 11, 23))
    assert due(organisation, "S1", now)[WALK_IN]["state"] == "done"  # region S keeps 7
    cadence.set_cadence("N", WALK_IN, 5)  # set again: the row is updated, not duplicated
    assert due(organisation, "N1", now)[WALK_IN]["state"] == "due"
    assert db.session.query(Cadence).count() == 1
    assert due(organisation, "N1", now)[PHONE_CALL]["cadence_days"] == 14  # not the walk-in's
    assert cadence.reset_cadence("N", WALK_IN) is True
    assert due(organisation, "N1", now)[WALK_IN]["cadence_days"] == 7
    assert cadence.reset_cadence("N", WALK_IN) is False


def test_an_audit_after_the_day_asked_about_does_not_count(client, organisation):
    submit(client, organisation, location="N1", at=utc("2026-11-10 10:00"))
    submit(client, organisation, location="N1", at=utc("2026-11-24 10:00"))
    row = due(organisation, "N1", utc("2026-11-20 10:00"))[WALK_IN]
    assert (row["last_audit_date"], row["overdue_days"]) == (date(2026, 11, 10), 3)


def test_a_location_out_of_scope_is_not_found(organisation):
    with pytest.raises(NotFound):
        cadence.location_due(user(organisation, "manager"), organisation.locations["N2"])
    with pytest.raises(NotFound):
        cadence.location_due(user(organisation, "regional"), organisation.locations["S1"])
    assert cadence.location_due(user(organisation, "regional"), organisation.locations["N2"])


@pytest.mark.parametrize("days", [0, -1, 366, 10**12, 7.5, "7", True, None])
def test_a_cadence_is_a_whole_number_of_days_from_1_to_365(organisation, days):
    with pytest.raises(InvalidInput) as refused:
        cadence.set_cadence("N", WALK_IN, days)
    assert refused.value.fields == {"days": ["A cadence is a whole number of days from 1 to 365."]}
    assert db.session.query(Cadence).count() == 0


def test_an_unknown_region_or_checklist_is_not_found(organisation):
    with pytest.raises(NotFound) as region:
        cadence.set_cadence("Nörth", WALK_IN, 7)
    assert region.value.message == "No region 'Nörth'."
    assert region.value.fields == {"region": ["Regions: N, S."]}
    with pytest.raises(NotFound) as checklist:
        cadence.set_cadence("N", "walk_in", 7)
    assert checklist.value.fields == {"checklist": [f"Checklists: {PHONE_CALL}, {WALK_IN}."]}


def test_the_cadences_listed(organisation):
    cadence.set_cadence("S", PHONE_CALL, 30)
    listed = [(r["region"].code, r["checklist_id"], r["days"], r["default"])
              for r in cadence.cadences()]
    assert listed == [("N", PHONE_CALL, 14, True), ("N", WALK_IN, 7, True),
                      ("S", PHONE_CALL, 30, False), ("S", WALK_IN, 7, True)]
    assert [r["days"] for r in cadence.cadences("S")] == [30, 7]


# --- the region report's coverage -----------------------------------------------------

NOW = utc("2026-12-02 11:00")  # Wednesday, noon in Madrid


def local_noon(day):
    return datetime.fromisoformat(f"{day} 12:00").replace(tzinfo=timezone(timedelta(hours=1)))


def coverage_report(organisation, role="regional", **period):
    period = reports.period_of(period.get("preset", "last_7_days"), zone="Europe/Madrid", now=NOW)
    return reports.region_report(user(organisation, role), "N", period, now=NOW)["coverage"]


def test_the_region_reports_coverage_beside_the_previous_periods(client, organisation):
    # N1 audited 2 and 9 days ago, N2 12 days ago; the previous period ends 7 days ago.
    submit(client, organisation, location="N1", at=local_noon("2026-11-30"))
    submit(client, organisation, location="N1", at=local_noon("2026-11-23"))
    submit(client, organisation, role="regional", location="N2", at=local_noon("2026-11-20"))
    submit(client, organisation, role="manager_s", location="S1", at=local_noon("2026-11-10"))
    coverage = coverage_report(organisation)
    assert coverage["checklists"] == [
        {"checklist_id": PHONE_CALL, "cadence_days": 14, "locations": 2,
         "covered": {"value": 0, "previous": 0, "change": 0},
         "coverage": {"value": 0.0, "previous": 0.0, "change": 0.0}},
        # now N1 (2 days) only; at the previous period's end, N1 (2 days) and N2 (5 days)
        {"checklist_id": WALK_IN, "cadence_days": 7, "locations": 2,
         "covered": {"value": 1, "previous": 2, "change": -1},
         "coverage": {"value": 50.0, "previous": 100.0, "change": -50.0}},
    ]
    # Worst first: never audited, then the most days overdue; S1 is another region's.
    assert [(r["location"]["code"], r["checklist_id"], r["state"], r["overdue_days"],
             r["never_audited"]) for r in coverage["overdue"]] == [
        ("N1", PHONE_CALL, "due", 0, True), ("N2", PHONE_CALL, "due", 0, True),
        ("N2", WALK_IN, "overdue", 5, False)]
    assert coverage["overdue"][2]["location"] == {
        "id": organisation.locations["N2"], "code": "N2", "name": "North Two",
        "timezone": "Europe/Madrid"}


def test_coverage_follows_the_cadence_of_the_region(client, organisation):
    submit(client, organisation, location="N1", at=local_noon("2026-11-30"))
    submit(client, organisation, role="regional", location="N2", at=local_noon("2026-11-20"))
    cadence.set_cadence("N", WALK_IN, 14)
    walk_in = coverage_report(organisation)["checklists"][1]
    assert (walk_in["cadence_days"], walk_in["coverage"]["value"]) == (14, 100.0)
    assert [r["checklist_id"] for r in coverage_report(organisation)["overdue"]] == [PHONE_CALL] * 2


def test_coverage_of_a_period_in_the_past_is_read_on_its_last_day(client, organisation):
    # last_month is November: its last day is the 30th; the previous period ends on 31 October.
    submit(client, organisation, location="N1", at=local_noon("2026-11-25"))
    submit(client, organisation, role="regional", location="N2", at=local_noon("2026-10-28"))
    submit(client, organisation, role="regional", location="N2", at=local_noon("2026-12-01"))
    walk_in = coverage_report(organisation, preset="last_month")["checklists"][1]
    assert walk_in["covered"] == {"value": 1, "previous": 1, "change": 0}  # N1; then N2
    overdue = coverage_report(organisation, preset="last_month")["overdue"]
    assert [(r["location"]["code"], r["checklist_id"]) for r in overdue
            if r["checklist_id"] == WALK_IN] == []  # now: N1 7 days (due), N2 done
