"""Every report figure against values computed by hand from the small data set of
tests/helpers.ReportData (read its docstring first), on SQLite and PostgreSQL; the
periods and the viewer's clock; the dialect functions."""
import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.services import reports, sql_dialects
from audit_server.services.errors import InvalidInput, NotFound
from tests.helpers import PHONE_CALL, WALK_IN, ReportData, best_walk_in, failing, submit, utc


def figure(value, previous, change):
    return {"value": value, "previous": previous, "change": change}


NO_FIGURE = figure(None, None, None)
WEEKS = [date(2026, 8, 31) + timedelta(weeks=n) for n in range(12)]  # ... 9 Nov, 16 Nov


@pytest.fixture
def data(app, client, organisation):
    return ReportData(app, client, organisation)


def user(organisation, role):
    return db.session.merge(organisation.users[role])


def period(zone=ReportData.ZONE):
    return reports.period_of(from_date=date.fromisoformat(ReportData.FROM),
                             to_date=date.fromisoformat(ReportData.TO), zone=zone,
                             now=ReportData.NOW)


@pytest.fixture
def report(data, organisation):
    return reports.region_report(user(organisation, "regional"), "N", period(), now=ReportData.NOW)


def by_location(report):
    return {row["location"]["code"]: row for row in report["locations"]}


# --- the region report ---------------------------------------------------------------

def test_the_report_names_its_region_period_and_checklists(report, organisation):
    assert report["region"] == {"id": organisation.regions["N"], "code": "N", "name": "North"}
    assert report["period"] == {"preset": None, "from": utc("2026-11-08 23:00"),
                                "to": utc("2026-11-22 23:00"), "timezone": "Europe/Madrid"}
    assert report["previous_period"] == {"from": utc("2026-10-25 23:00"),
                                         "to": utc("2026-11-08 23:00")}
    assert report["checklist_id"] is None
    assert [(c["id"], c["kind"]) for c in report["checklists"]] == [(PHONE_CALL, "phone"),
                                                                     (WALK_IN, "walk_in")]
    assert report["checklists"][1]["title"] == {"es": "Entrada de cinco segundos",
                                                "en": "Five-second walk-in"}


def test_the_region_summary(report):
    summary = report["summary"]
    assert summary["audits"] == figure(9, 2, 7)
    assert summary["locations"] == 4
    assert summary["locations_audited"] == figure(3, 2, 1)
    assert summary["critical_failures"] == figure(3, 0, 3)  # a3, b2, b3
    assert summary["scores"] == [
        # (100 + 0 + 67.3) / 3; before: b0
        {"checklist_id": PHONE_CALL, "score": figure(55.8, 100.0, -44.2), "audits": figure(3, 1, 2)},
        # (86.7 + 85.7 + 80.0 + 100 + 73.3 + 93.3) / 6; before: a0
        {"checklist_id": WALK_IN, "score": figure(86.5, 93.3, -6.8), "audits": figure(6, 1, 5)},
    ]


def test_the_region_actions(report):
    assert report["summary"]["actions"] == {
        "open": 5,  # N1 floor (reopened) and greeting, N2 department and owned, N3 staff
        "overdue": 3,  # N1 floor and greeting, N2 department
        "closed": figure(4, 1, 3),  # first done in the period: 24 h, 6 h, 10 h, 48 h
        "median_hours_to_close": figure(17.0, 24.0, -7.0),
        "closed_on_time": figure(50.0, 100.0, -50.0),
    }


def test_weekly_scores_follow_each_locations_clock(report):
    weekly = {w["checklist_id"]: {week["week"]: (week["score"], week["audits"])
                                  for week in w["weeks"]} for w in report["weekly"]}
    assert all(list(weeks) == WEEKS for weeks in weekly.values())
    gap = (None, 0)
    # Week of 9 Nov: a1, a2 (Sunday 23:30 in Madrid) and c1 (Sunday 23:30 in Mexico City,
    # Monday in UTC); week of 16 Nov: a3 (Monday 00:30 in Madrid, Sunday in UTC), b4, c2.
    assert weekly[WALK_IN] == {**dict.fromkeys(WEEKS, gap), date(2026, 10, 26): (93.3, 1),
                               date(2026, 11, 9): (81.9, 3), date(2026, 11, 16): (91.1, 3)}
    assert weekly[PHONE_CALL] == {**dict.fromkeys(WEEKS, gap), date(2026, 10, 26): (100.0, 1),
                                  date(2026, 11, 9): (55.8, 3)}


def test_section_scores_are_points_over_max_points(report):
    assert [(s["checklist_id"], s["section_id"], s["title"]["en"], s["score"])
            for s in report["sections"]] == [
        # (10 + 0 + 9) / (10 + 3 + 10) and (14 + 0 + 8.5) / (14 + 0 + 16): b2 was not answered
        (PHONE_CALL, "reaching_someone", "Reaching someone", figure(82.6, 100.0, -17.4)),
        (PHONE_CALL, "getting_help", "Getting help", figure(75.0, 100.0, -25.0)),
        # 77 / 89 (a2's N/A leaves out the queue's point); before 14 / 15
        (WALK_IN, "first_five_seconds", "The first five seconds", figure(86.5, 93.3, -6.8)),
    ]


def test_most_failed_items(report):
    rows = [(r["checklist_id"], r["item_id"], r["failure_rate"], r["failed"], r["applicable"],
             r["locations"], r["few_answers"]) for r in report["most_failed"]]
    assert rows == [
        (WALK_IN, "smile", figure(33.3, 0.0, 33.3), 2, 6, 2, False),
        (WALK_IN, "entrance_clear", figure(16.7, 0.0, 16.7), 1, 6, 1, False),
        (WALK_IN, "floor_clean", figure(16.7, 0.0, 16.7), 1, 6, 1, False),
        (WALK_IN, "greeted_within_5s", figure(16.7, 0.0, 16.7), 1, 6, 1, False),
        (WALK_IN, "staff_available", figure(16.7, 0.0, 16.7), 1, 6, 1, False),
        # Phone items: three calls, and only the two answered ones are asked the rest.
        (PHONE_CALL, "not_my_department", figure(50.0, 0.0, 50.0), 1, 2, 1, True),
        (PHONE_CALL, "owned", figure(50.0, 0.0, 50.0), 1, 2, 1, True),
        (PHONE_CALL, "answered", figure(33.3, 0.0, 33.3), 1, 3, 1, True),
    ]
    assert report["most_failed"][0]["label"] == {"es": "¿Te recibieron con una sonrisa?",
                                                 "en": "Were you welcomed with a smile?"}


def test_phone_figures(report):
    # b1 (2 rings, 10 s), b2 (not answered), b3 (5 rings, 40 s, 2 transfers, "not my
    # department", not owned); before: b0 (2 rings, 10 s, no transfer, owned).
    assert report["phone"] == {
        "calls": figure(3, 1, 2),
        "answered": figure(66.7, 100.0, -33.3),
        "median_rings": figure(4, 2, 2),  # (2 + 5) / 2 = 3.5, a whole number half up
        "within_3_rings": figure(50.0, 100.0, -50.0),
        "median_hold_seconds": figure(25, 10, 15),
        "hold_30s_or_less": figure(50.0, 100.0, -50.0),
        "two_plus_transfers": figure(50.0, 0.0, 50.0),
        "not_my_department": figure(50.0, 0.0, 50.0),
        "owned": figure(50.0, 100.0, -50.0),
    }


def test_locations_are_ranked_worst_first_and_the_unaudited_last(report):
    assert [(r["rank"], r["location"]["code"], r["score"], r["audits"])
            for r in report["locations"]] == [
        (1, "N2", figure(66.8, 100.0, -33.2), figure(4, 1, 3)),  # (100 + 0 + 67.3 + 100) / 4
        (2, "N3", figure(83.3, None, None), figure(2, 0, 2)),  # (73.3 + 93.3) / 2
        (3, "N1", figure(84.1, 93.3, -9.2), figure(3, 1, 2)),  # (86.7 + 85.7 + 80.0) / 3
        (None, "N4", NO_FIGURE, figure(0, 0, 0)),
    ]
    assert report["locations"][1]["location"] == {
        "id": report["locations"][1]["location"]["id"], "code": "N3",
        "name": "Norte Tres – Coyoacán", "timezone": "America/Mexico_City"}


def test_each_location_per_checklist(report, data):
    rows = by_location(report)
    n1_walk_in, n1_phone = rows["N1"]["checklists"][1], rows["N1"]["checklists"][0]
    assert n1_walk_in["checklist_id"] == WALK_IN
    assert (n1_walk_in["score"], n1_walk_in["audits"]) == (figure(84.1, 93.3, -9.2), 3)
    assert n1_walk_in["latest"] == {"audit_id": uuid.UUID(data.audits["a3"]), "score": 80.0,
                                    "local_date": date(2026, 11, 16)}
    assert n1_walk_in["days_since_last"] == 7  # Madrid's today is 23 November
    assert n1_phone == {"checklist_id": PHONE_CALL, "score": NO_FIGURE, "audits": 0,
                        "latest": None, "days_since_last": None,
                        "trend": [{"week": week, "score": None} for week in WEEKS]}
    n2_phone = rows["N2"]["checklists"][0]
    assert (n2_phone["score"], n2_phone["audits"]) == (figure(55.8, 100.0, -44.2), 3)
    assert n2_phone["latest"] == {"audit_id": uuid.UUID(data.audits["b3"]), "score": 67.3,
                                  "local_date": date(2026, 11, 14)}
    assert n2_phone["days_since_last"] == 9
    n3_walk_in = rows["N3"]["checklists"][1]
    assert n3_walk_in["latest"]["local_date"] == date(2026, 11, 16)  # Monday 00:30 in Mexico City
    assert n3_walk_in["days_since_last"] == 7  # 04:00 on 23 November in Mexico City
    assert n3_walk_in["trend"] == [{"week": week, "score": {date(2026, 11, 9): 73.3,
                                                            date(2026, 11, 16): 93.3}.get(week)}
                                   for week in WEEKS]


def test_each_location_critical_failures_and_actions(report):
    rows = by_location(report)
    assert {code: row["critical_failures"] for code, row in rows.items()} == {
        "N1": figure(1, 0, 1), "N2": figure(2, 0, 2), "N3": figure(0, 0, 0), "N4": figure(0, 0, 0)}
    assert {code: row["actions"] for code, row in rows.items()} == {
        "N1": {"open": 2, "overdue": 2, "median_hours_to_close": figure(15.0, 24.0, -9.0),
               "closed_on_time": figure(50.0, 100.0, -50.0)},
        "N2": {"open": 2, "overdue": 1, "median_hours_to_close": figure(10.0, None, None),
               "closed_on_time": figure(100.0, None, None)},
        "N3": {"open": 1, "overdue": 0, "median_hours_to_close": figure(48.0, None, None),
               "closed_on_time": figure(0.0, None, None)},
        "N4": {"open": 0, "overdue": 0, "median_hours_to_close": NO_FIGURE,
               "closed_on_time": NO_FIGURE},
    }


def test_a_checklist_filter(data, organisation):
    report = reports.region_report(user(organisation, "admin"), "N", period(), WALK_IN,
                                   now=ReportData.NOW)
    assert report["checklist_id"] == WALK_IN
    assert [c["id"] for c in report["checklists"]] == [WALK_IN]
    assert report["summary"]["audits"] == figure(6, 1, 5)
    assert report["summary"]["critical_failures"] == figure(1, 0, 1)  # a3
    # The walk-in's actions only: N1 floor and greeting, N3 staff; N2's are the phone's.
    assert report["summary"]["actions"]["open"] == 3
    assert report["phone"]["calls"] == figure(0, 0, 0)
    assert report["phone"]["answered"] == NO_FIGURE
    assert [r["item_id"] for r in report["most_failed"]][-1] == "staff_available"
    assert [(r["location"]["code"], r["rank"]) for r in report["locations"]] == [
        ("N3", 1), ("N1", 2), ("N2", 3), ("N4", None)]  # 83.3, 84.1, 100


def test_a_region_with_one_location_and_an_empty_previous_period(data, organisation):
    report = reports.region_report(user(organisation, "admin"), "S", period("America/Mexico_City"),
                                   now=ReportData.NOW)
    assert report["period"]["from"] == utc("2026-11-09 06:00")  # midnight in Mexico City
    summary = report["summary"]
    assert (summary["audits"], summary["locations"], summary["locations_audited"]) == (
        figure(1, 0, 1), 1, figure(1, 0, 1))
    assert summary["scores"][1] == {"checklist_id": WALK_IN, "score": figure(100.0, None, None),
                                    "audits": figure(1, 0, 1)}
    assert summary["actions"] == {"open": 0, "overdue": 0, "closed": figure(0, 0, 0),
                                  "median_hours_to_close": NO_FIGURE, "closed_on_time": NO_FIGURE}
    assert report["most_failed"] == []
    assert [(r["rank"], r["location"]["code"]) for r in report["locations"]] == [(1, "S1")]


def test_ranking_ties_share_a_rank_and_fewer_audits_come_first(client, organisation):
    organisation.add_locations("N3,North Three,N,,,Europe/Madrid", "N5,North Five,N,,,Europe/Madrid")
    for location, answers, day in [("N1", failing("smile"), 2), ("N2", best_walk_in(), 3),
                                   ("N3", best_walk_in(), 4), ("N3", best_walk_in(), 5),
                                   ("N5", best_walk_in(), 6)]:
        submit(client, organisation, "admin", location, answers, utc(f"2026-10-0{day} 10:00"))
    october = reports.period_of(from_date=date(2026, 10, 1), to_date=date(2026, 10, 7),
                                zone="Europe/Madrid")
    report = reports.region_report(user(organisation, "admin"), "N", october)
    assert [(r["rank"], r["location"]["code"], r["score"]["value"], r["audits"]["value"])
            for r in report["locations"]] == [
        (1, "N1", 86.7, 1), (2, "N2", 100.0, 1), (2, "N5", 100.0, 1), (4, "N3", 100.0, 2)]


# --- the organisation overview ------------------------------------------------------------

def test_the_organisation_overview(data, organisation):
    overview = reports.organisation_report(user(organisation, "admin"), period(), now=ReportData.NOW)
    assert overview["period"]["from"] == utc("2026-11-08 23:00")
    summary = overview["summary"]
    assert (summary["audits"], summary["locations"], summary["locations_audited"],
            summary["critical_failures"]) == (figure(10, 2, 8), 5, figure(4, 2, 2), figure(3, 0, 3))
    # (519.0 + 100) / 7 walk-ins; S1 has no phone audit
    assert summary["scores"][1]["score"] == figure(88.4, 93.3, -4.9)
    assert summary["scores"][0]["score"] == figure(55.8, 100.0, -44.2)
    assert summary["actions"]["open"] == 5
    assert [(r["region"]["code"], r["locations"]) for r in overview["regions"]] == [("N", 4), ("S", 1)]
    north, south = (r["summary"] for r in overview["regions"])
    assert north["audits"] == figure(9, 2, 7)
    assert north["actions"]["median_hours_to_close"] == figure(17.0, 24.0, -7.0)
    assert south["audits"] == figure(1, 0, 1)
    assert south["scores"][1]["score"] == figure(100.0, None, None)


def test_a_regional_manager_overviews_her_regions_only(data, organisation):
    overview = reports.organisation_report(user(organisation, "regional"), period(),
                                           now=ReportData.NOW)
    assert [r["region"]["code"] for r in overview["regions"]] == ["N"]
    assert overview["summary"]["audits"] == figure(9, 2, 7)
    assert overview["summary"]["locations"] == 4


# --- the audits where an item failed ---------------------------------------------------------

def test_the_audits_where_an_item_failed_newest_first(data, organisation):
    regional = user(organisation, "regional")
    rows, total = reports.failed_item_audits(regional, "N", WALK_IN, "smile", period(), 1, 1)
    assert total == 2
    assert rows == [{"audit_id": uuid.UUID(data.audits["c1"]),
                     "location": {"id": organisation.locations["N3"], "code": "N3",
                                  "name": "Norte Tres – Coyoacán", "timezone": "America/Mexico_City"},
                     "local_date": date(2026, 11, 15), "score": 73.3,
                     "comment": "Nadie sonrió 😐, ni «hola»"}]
    rows, total = reports.failed_item_audits(regional, "N", WALK_IN, "smile", period(), 2, 1)
    assert [(r["audit_id"], r["local_date"], r["comment"]) for r in rows] == [
        (uuid.UUID(data.audits["a1"]), date(2026, 11, 10), "")]
    assert reports.failed_item_audits(regional, "N", WALK_IN, "smell_noise", period(), 1, 10) == (
        [], 0)  # it failed in the previous period only


def test_the_audits_of_an_item_no_checklist_has_are_not_found(data, organisation):
    with pytest.raises(NotFound):
        reports.failed_item_audits(user(organisation, "admin"), "N", WALK_IN, "owned", period(), 1, 10)


# --- scope ----------------------------------------------------------------------------------

@pytest.mark.parametrize("role, code", [("regional", "S"), ("manager", "N"), ("manager_s", "S"),
                                        ("admin", "XX")])
def test_a_region_out_of_reach_is_not_found(organisation, role, code):
    with pytest.raises(NotFound):
        reports.region_report(user(organisation, role), code, period())
    with pytest.raises(NotFound):
        reports.failed_item_audits(user(organisation, role), code, WALK_IN, "smile", period(), 1, 10)


def test_a_manager_has_no_overview(organisation):
    with pytest.raises(NotFound):
        reports.organisation_report(user(organisation, "manager"), period())


def test_an_unknown_checklist_is_invalid_input(organisation):
    with pytest.raises(InvalidInput) as refused:
        reports.region_report(user(organisation, "admin"), "N", period(), "mystery_shop")
    assert list(refused.value.fields) == ["checklist_id"]


# --- periods and the viewer's clock ----------------------------------------------------------

@pytest.mark.parametrize("preset, zone, start, end", [
    # 1 December 03:00 UTC: still 30 November in Mexico City, already 1 December in Madrid.
    ("last_7_days", "Europe/Madrid", "2026-11-24 03:00", "2026-12-01 03:00"),
    ("last_30_days", "UTC", "2026-11-01 03:00", "2026-12-01 03:00"),
    ("last_90_days", "UTC", "2026-09-02 03:00", "2026-12-01 03:00"),
    ("this_month", "Europe/Madrid", "2026-11-30 23:00", "2026-12-01 03:00"),
    ("this_month", "America/Mexico_City", "2026-11-01 06:00", "2026-12-01 03:00"),
    ("last_month", "Europe/Madrid", "2026-10-31 23:00", "2026-11-30 23:00"),
    ("last_month", "America/Mexico_City", "2026-10-01 06:00", "2026-11-01 06:00"),
    (None, "UTC", "2026-11-01 03:00", "2026-12-01 03:00"),
])
def test_presets_on_the_viewers_clock(preset, zone, start, end):
    made = reports.period_of(preset, zone=zone, now=utc("2026-12-01 03:00"))
    assert (made.start, made.end, made.timezone) == (utc(start), utc(end), zone)
    assert made.preset == (preset or "last_30_days")


def test_last_month_in_january_is_december():
    made = reports.period_of("last_month", zone="Europe/Madrid", now=utc("2027-01-10 12:00"))
    assert (made.start, made.end) == (utc("2026-11-30 23:00"), utc("2026-12-31 23:00"))


def test_from_and_to_are_whole_days_on_the_viewers_clock():
    # Madrid moves to summer time on 29 March 2026: the last day ends at 22:00 UTC.
    made = reports.period_of(from_date=date(2026, 3, 1), to_date=date(2026, 3, 31),
                             zone="Europe/Madrid")
    assert (made.start, made.end, made.preset) == (utc("2026-02-28 23:00"), utc("2026-03-31 22:00"),
                                                   None)
    # The previous period is as long: 30 days and 23 hours.
    assert (made.previous.start, made.previous.end) == (utc("2026-01-29 00:00"),
                                                         utc("2026-02-28 23:00"))
    one_day = reports.period_of(from_date=date(2026, 5, 4), to_date=date(2026, 5, 4), zone="UTC")
    assert one_day.end - one_day.start == timedelta(days=1)
    longest = reports.period_of(from_date=date(2025, 1, 1), to_date=date(2026, 2, 4), zone="UTC")
    assert (longest.end - longest.start).days == 400


def test_the_trend_ends_with_the_week_of_the_periods_last_instant():
    # The period ends at midnight starting Monday 16 November in Madrid: its last
    # instant is on Sunday 15 November, in the week of 9 November.
    made = reports.period_of(from_date=date(2026, 11, 2), to_date=date(2026, 11, 15),
                             zone="Europe/Madrid")
    assert made.weeks()[-1] == date(2026, 11, 9)
    assert made.weeks()[0] == date(2026, 8, 24)
    assert len(made.weeks()) == 12


@pytest.mark.parametrize("arguments, field", [
    ({"preset": "yesterday"}, "period"),
    ({"preset": "last_7_days", "from_date": date(2026, 1, 1), "to_date": date(2026, 1, 2)}, "period"),
    ({"from_date": date(2026, 1, 1)}, "to"),
    ({"to_date": date(2026, 1, 1)}, "from"),
    ({"from_date": date(2026, 1, 2), "to_date": date(2026, 1, 1)}, "to"),
    ({"from_date": date(2025, 1, 1), "to_date": date(2026, 2, 5)}, "to"),  # 401 days
    ({"zone": "Europe/Atlantis"}, "tz"),
    ({"zone": "../../etc/passwd"}, "tz"),
])
def test_bad_periods_name_their_field(arguments, field):
    with pytest.raises(InvalidInput) as refused:
        reports.period_of(**arguments)
    assert list(refused.value.fields) == [field]


def test_the_viewers_clock(organisation):
    organisation.add_locations("N3,North Three,N,,,America/Mexico_City",
                               "N4,North Four,N,,,America/Mexico_City")
    admin, regional = user(organisation, "admin"), user(organisation, "regional")
    assert reports.viewer_zone(admin, "N", "Asia/Tokyo") == "Asia/Tokyo"
    # Two of N's four locations in each zone: the first by name.
    assert reports.viewer_zone(admin, "N") == "America/Mexico_City"
    assert reports.viewer_zone(admin, "S") == "America/Mexico_City"
    # The organisation: three of five locations in Mexico City; the regional sees N only.
    assert reports.viewer_zone(admin) == "America/Mexico_City"
    assert reports.viewer_zone(regional, "S") == "UTC"  # none of S's locations is hers
    organisation.add_locations("N5,North Five,N,,,Europe/Madrid")
    assert reports.viewer_zone(regional) == "Europe/Madrid"


# --- the dialect functions, on the database the tests run on ------------------------------------

def test_week_start_is_the_monday(app):
    days = [date(2026, 11, 15) + timedelta(days=n) for n in range(9)]  # Sunday to next Monday
    values = sa.union_all(*[sa.select(sa.literal(day, sa.Date).label("day")) for day in days]).subquery()
    with app.app_context():
        rows = db.session.execute(sa.select(values.c.day, sql_dialects.week_start(values.c.day)
                                            .label("week"))).all()
    mondays = {as_date(day): as_date(week) for day, week in rows}
    assert mondays == {day: date(2026, 11, 9) if day.day == 15 else
                       date(2026, 11, 23) if day.day >= 23 else date(2026, 11, 16) for day in days}


def as_date(value):
    """A date as the database gave it (SQLite: ISO text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


@pytest.mark.parametrize("values, median", [([7], 7), ([4, 1, 10], 4), ([1, 2, 3, 10], 2.5),
                                            ([None, 5, None, 9], 7), ([None], None)])
def test_medians(app, values, median):
    rows = sa.union_all(*[sa.select(sa.literal(1).label("g"), sa.cast(sa.literal(v), sa.Float)
                                    .label("value")) for v in values]).subquery()
    with app.app_context():
        found = db.session.execute(sql_dialects.medians(rows, ["g"])).all()
    assert [row.median for row in found] == ([] if median is None else [median])
