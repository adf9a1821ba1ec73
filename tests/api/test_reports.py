"""The report endpoints through the test client (and one through gunicorn): the JSON they
write for tests/helpers.ReportData, each bad input, and each role in and out of scope."""
import pytest
import requests

from tests.helpers import PHONE_CALL, WALK_IN, ReportData

PERIOD = f"from={ReportData.FROM}&to={ReportData.TO}"
REGION_N = f"/api/v1/reports/regions/N?{PERIOD}"


@pytest.fixture
def data(app, client, organisation):
    return ReportData(app, client, organisation)


def get(client, organisation, role, url, status=200):
    r = client.get(url, headers=organisation.headers(role))
    assert r.status_code == status, r.get_json()
    return r.get_json()


def figure(value, previous, change):
    return {"value": value, "previous": previous, "change": change}


def test_a_region_report_as_json(client, organisation, data):
    report = get(client, organisation, "regional", REGION_N)
    # No tz: the zone of most of N's locations (three in Madrid, one in Mexico City).
    assert report["period"] == {"preset": None, "from": "2026-11-08T23:00:00+00:00",
                                "to": "2026-11-22T23:00:00+00:00", "timezone": "Europe/Madrid"}
    assert report["previous_period"] == {"from": "2026-10-25T23:00:00+00:00",
                                         "to": "2026-11-08T23:00:00+00:00"}
    assert report["summary"]["audits"] == figure(9, 2, 7)
    assert report["summary"]["scores"][1] == {"checklist_id": WALK_IN,
                                              "score": figure(86.5, 93.3, -6.8),
                                              "audits": figure(6, 1, 5)}
    assert report["weekly"][1]["weeks"][-2:] == [
        {"week": "2026-11-09", "score": 81.9, "audits": 3},
        {"week": "2026-11-16", "score": 91.1, "audits": 3}]
    assert report["phone"]["median_hold_seconds"] == figure(25, 10, 15)
    assert [(r["rank"], r["location"]["code"]) for r in report["locations"]] == [
        (1, "N2"), (2, "N3"), (3, "N1"), (None, "N4")]
    n1 = report["locations"][2]["checklists"][1]
    assert n1["latest"] == {"audit_id": data.audits["a3"], "score": 80.0, "local_date": "2026-11-16"}
    assert report["most_failed"][0]["item_id"] == "smile"


def test_a_viewers_clock_moves_the_period(client, organisation, data):
    report = get(client, organisation, "admin", f"{REGION_N}&tz=America/Mexico_City")
    assert report["period"]["from"] == "2026-11-09T06:00:00+00:00"
    assert report["period"]["timezone"] == "America/Mexico_City"


def test_a_checklist_filter(client, organisation, data):
    report = get(client, organisation, "admin", f"{REGION_N}&checklist_id={PHONE_CALL}")
    assert report["checklist_id"] == PHONE_CALL
    assert report["summary"]["audits"] == figure(3, 1, 2)
    assert report["locations"][0]["location"]["code"] == "N2"


def test_a_preset_period(client, organisation):
    report = get(client, organisation, "admin", "/api/v1/reports/regions/N?period=last_7_days")
    assert report["period"]["preset"] == "last_7_days"
    assert report["summary"]["audits"] == figure(0, 0, 0)
    assert report["locations"][0]["rank"] is None


def test_the_organisation_overview(client, organisation, data):
    overview = get(client, organisation, "admin", f"/api/v1/reports?{PERIOD}")
    assert overview["summary"]["audits"] == figure(10, 2, 8)
    assert [(r["region"]["code"], r["locations"], r["summary"]["audits"]["value"])
            for r in overview["regions"]] == [("N", 4, 9), ("S", 1, 1)]
    mine = get(client, organisation, "regional", f"/api/v1/reports?{PERIOD}")
    assert [r["region"]["code"] for r in mine["regions"]] == ["N"]


def test_the_audits_where_an_item_failed(client, organisation, data):
    url = f"/api/v1/reports/regions/N/items/{WALK_IN}/smile?{PERIOD}&per_page=1"
    page = get(client, organisation, "regional", url)
    assert (page["page"], page["per_page"], page["total"]) == (1, 1, 2)
    assert page["items"] == [{"audit_id": data.audits["c1"], "local_date": "2026-11-15",
                              "score": 73.3, "comment": "Nadie sonrió 😐, ni «hola»",
                              "location": {"id": organisation.locations["N3"], "code": "N3",
                                           "name": "Norte Tres – Coyoacán",
                                           "timezone": "America/Mexico_City"}}]
    assert get(client, organisation, "regional", url + "&page=2")["items"][0]["audit_id"] == (
        data.audits["a1"])


@pytest.mark.parametrize("query, field", [
    ("period=yesterday", "period"),
    ("period=last_7_days&from=2026-11-01&to=2026-11-02", "period"),
    ("from=2026-11-02&to=2026-11-01", "to"),
    ("from=2025-01-01&to=2026-02-05", "to"),  # 401 days
    ("from=2026-11-01", "to"),
    ("to=2026-11-01", "from"),
    ("from=2026-11-31&to=2026-12-01", "from"),
    ("tz=Europe/Atlantis", "tz"),
    ("tz=Mars", "tz"),
    ("checklist_id=mystery_shop", "checklist_id"),
    ("checklist_id=Bad Id", "checklist_id"),
    ("region=N", "region"),
])
@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/reports/regions/N"])
def test_bad_queries_are_422_naming_the_field(client, organisation, url, query, field):
    r = client.get(f"{url}?{query}", headers=organisation.headers("admin"))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("role, url", [
    ("regional", "/api/v1/reports/regions/S"),
    ("manager", "/api/v1/reports/regions/N"),
    ("manager", "/api/v1/reports"),
    ("manager_s", "/api/v1/reports/regions/S"),
    ("admin", "/api/v1/reports/regions/NOPE"),
    ("regional", f"/api/v1/reports/regions/S/items/{WALK_IN}/smile"),
    ("admin", f"/api/v1/reports/regions/N/items/{WALK_IN}/no_such_item"),
    ("admin", "/api/v1/reports/regions/N/items/no_such_checklist/smile"),
])
def test_out_of_reach_is_404(client, organisation, role, url):
    r = client.get(url, headers=organisation.headers(role))
    assert r.status_code == 404, r.get_json()
    assert r.get_json()["error"]["code"] == "not_found"


def test_an_admin_reads_any_region(client, organisation):
    assert get(client, organisation, "admin", "/api/v1/reports/regions/S")["region"]["code"] == "S"


@pytest.mark.parametrize("url", ["/api/v1/reports", "/api/v1/reports/regions/N",
                                 f"/api/v1/reports/regions/N/items/{WALK_IN}/smile"])
def test_reports_need_a_signed_in_user(client, url):
    assert client.get(url).status_code == 401


def test_a_region_report_through_a_real_server(gunicorn_server, organisation, data):
    r = requests.get(f"{gunicorn_server}{REGION_N}&tz=Europe/Madrid",
                     headers=organisation.headers("regional"), timeout=60)
    assert r.status_code == 200
    report = r.json()
    assert report["summary"]["actions"] == {  # now, every open action is past its due date
        "open": 5, "overdue": 5, "closed": figure(4, 1, 3),
        "median_hours_to_close": figure(17.0, 24.0, -7.0), "closed_on_time": figure(50.0, 100.0, -50.0)}
    assert requests.get(f"{gunicorn_server}/api/v1/reports", headers=organisation.headers("manager"),
                        timeout=60).status_code == 404
