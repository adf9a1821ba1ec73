"""GET /api/v1/locations/<id>/due through the test client (and through gunicorn), and the
coverage of the region report's JSON: each state, a changed cadence, each role in and
out of scope, bad input."""
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import requests

from audit_server.services import cadence
from tests.helpers import PHONE_CALL, WALK_IN, local_noon, submit


def today(zone="Europe/Madrid"):
    return datetime.now(ZoneInfo(zone)).date()


def days_ago(n, zone="Europe/Madrid"):
    return (today(zone) - timedelta(days=n)).isoformat()


def get(client, organisation, role, url, status=200):
    r = client.get(url, headers=organisation.headers(role))
    assert r.status_code == status, r.get_json()
    return r.get_json()


def due_url(organisation, code):
    return f"/api/v1/locations/{organisation.locations[code]}/due"


def test_what_is_due_at_a_location(client, organisation):
    submit(client, organisation, location="N1", at=local_noon(2))
    submit(client, organisation, location="N1", at=local_noon(20), checklist=PHONE_CALL)
    found = get(client, organisation, "manager", due_url(organisation, "N1"))
    assert found["location"] == {"id": organisation.locations["N1"], "code": "N1",
                                 "name": "North One", "timezone": "Europe/Madrid"}
    assert found["today"] == today().isoformat()
    assert found["checklists"] == [
        {"checklist_id": PHONE_CALL, "kind": "phone",
         "title": {"es": "Llama a tu propio número", "en": "Call your own number"},
         "cadence_days": 14, "state": "overdue", "last_audit_date": days_ago(20),
         "days_since_last": 20, "next_due": days_ago(6), "overdue_days": 6,
         "never_audited": False},
        {"checklist_id": WALK_IN, "kind": "walk_in",
         "title": {"es": "Entrada de cinco segundos", "en": "Five-second walk-in"},
         "cadence_days": 7, "state": "done", "last_audit_date": days_ago(2),
         "days_since_last": 2, "next_due": days_ago(-5), "overdue_days": 0,
         "never_audited": False},
    ]


def test_a_location_never_audited_is_due(client, organisation):
    found = get(client, organisation, "manager_s", due_url(organisation, "S1"))
    assert found["today"] == today("America/Mexico_City").isoformat()
    assert [(c["state"], c["never_audited"], c["last_audit_date"], c["days_since_last"],
             c["next_due"]) for c in found["checklists"]] == [
        ("due", True, None, None, today("America/Mexico_City").isoformat())] * 2


def test_a_cadence_set_for_the_region_applies_at_once(app, client, organisation, runner):
    submit(client, organisation, location="N1", at=local_noon(5))
    assert get(client, organisation, "manager", due_url(organisation, "N1"))[
        "checklists"][1]["state"] == "done"
    assert runner.invoke(args=["cadence", "set", "N", WALK_IN, "4"]).exit_code == 0
    walk_in = get(client, organisation, "manager", due_url(organisation, "N1"))["checklists"][1]
    assert (walk_in["cadence_days"], walk_in["state"], walk_in["overdue_days"]) == (4, "overdue", 1)


def test_another_regions_location_is_not_found(client, organisation):
    for role, code in (("manager", "N2"), ("manager", "S1"), ("regional", "S1"),
                       ("manager_s", "N1")):
        error = get(client, organisation, role, due_url(organisation, code), status=404)
        assert error == {"error": {"code": "not_found", "message": "No such location.",
                                   "fields": {}}}
    assert get(client, organisation, "regional", due_url(organisation, "N2"))["location"]["code"] == "N2"
    assert get(client, organisation, "admin", due_url(organisation, "S1"))["location"]["code"] == "S1"


def test_bad_requests(client, organisation):
    assert client.get(due_url(organisation, "N1")).status_code == 401
    assert get(client, organisation, "admin", "/api/v1/locations/2147483647/due", 404)[
        "error"]["code"] == "not_found"
    assert client.get("/api/v1/locations/2147483648/due",
                      headers=organisation.headers("admin")).status_code == 404
    refused = get(client, organisation, "admin", due_url(organisation, "N1") + "?tz=UTC", 422)
    assert refused["error"]["code"] == "validation_error" and "tz" in refused["error"]["fields"]


def test_the_region_report_says_its_coverage(client, organisation):
    submit(client, organisation, location="N1", at=local_noon(1))
    submit(client, organisation, role="regional", location="N2", at=local_noon(9))
    cadence.set_cadence("N", PHONE_CALL, 30)
    report = get(client, organisation, "regional", "/api/v1/reports/regions/N?period=last_7_days")
    coverage = report["coverage"]
    assert coverage["checklists"] == [
        {"checklist_id": PHONE_CALL, "cadence_days": 30, "locations": 2,
         "covered": {"value": 0, "previous": 0, "change": 0},
         "coverage": {"value": 0.0, "previous": 0.0, "change": 0.0}},
        # a week ago, N2's audit was 2 days old: covered; N1 had none
        {"checklist_id": WALK_IN, "cadence_days": 7, "locations": 2,
         "covered": {"value": 1, "previous": 1, "change": 0},
         "coverage": {"value": 50.0, "previous": 50.0, "change": 0.0}},
    ]
    assert [(r["location"]["code"], r["checklist_id"], r["state"], r["overdue_days"],
             r["last_audit_date"]) for r in coverage["overdue"]] == [
        ("N1", PHONE_CALL, "due", 0, None), ("N2", PHONE_CALL, "due", 0, None),
        ("N2", WALK_IN, "overdue", 2, days_ago(9))]


def test_what_is_due_through_a_real_server(gunicorn_server, client, organisation):
    submit(client, organisation, location="N1", at=local_noon(9))
    r = requests.get(f"{gunicorn_server}{due_url(organisation, 'N1')}",
                     headers=organisation.headers("manager"), timeout=60)
    assert r.status_code == 200
    walk_in = r.json()["checklists"][1]
    assert (walk_in["state"], walk_in["overdue_days"], walk_in["next_due"]) == (
        "overdue", 2, (today() - timedelta(days=2)).isoformat())
    assert requests.get(f"{gunicorn_server}{due_url(organisation, 'S1')}",
                        headers=organisation.headers("manager"), timeout=60).status_code == 404
    assert date.fromisoformat(r.json()["today"]) == today()
