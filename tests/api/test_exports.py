"""The exports through the test client (and through gunicorn): CSV read with `csv`, XLSX
with openpyxl, their rows against the report's and the lists' totals for the same
filters, each filter, the scope of each role, bad filters, and messy text."""
import csv
import io
from datetime import datetime, timezone

import openpyxl
import pytest
import requests

from audit_server.services import exports
from tests.helpers import PHONE_CALL, WALK_IN, ReportData, best_walk_in, submit

PERIOD = f"from={ReportData.FROM}&to={ReportData.TO}"
ENDPOINTS = ["audits.csv", "audits.xlsx", "actions.csv", "actions.xlsx"]


@pytest.fixture
def data(app, client, organisation):
    return ReportData(app, client, organisation)


def fetch(client, organisation, role, url, status=200):
    r = client.get(url, headers=organisation.headers(role))
    assert r.status_code == status, r.get_data(as_text=True)[:500]
    return r


def read_csv(response):
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_xlsx(response):
    workbook = openpyxl.load_workbook(io.BytesIO(response.get_data()), read_only=True)
    sheet = workbook.worksheets[0]
    header, *rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
    return [dict(zip(header, row)) for row in rows]


def export(client, organisation, role, name, query):
    r = fetch(client, organisation, role, f"/api/v1/exports/{name}?{query}")
    return read_csv(r) if name.endswith(".csv") else read_xlsx(r)


def report_total(client, organisation, role, query, code="N"):
    report = fetch(client, organisation, role, f"/api/v1/reports/regions/{code}?{query}").get_json()
    return report["summary"]["audits"]["value"]


@pytest.mark.parametrize("name", ["audits.csv", "audits.xlsx"])
@pytest.mark.parametrize("query", [PERIOD, f"{PERIOD}&checklist_id={PHONE_CALL}",
                                   f"{PERIOD}&checklist_id={WALK_IN}&tz=America/Mexico_City"])
def test_audit_rows_are_the_reports_audits(client, organisation, data, name, query):
    rows = export(client, organisation, "regional", f"{name}", f"{query}&region=N")
    assert len(rows) == report_total(client, organisation, "regional", query) > 0
    assert {row["region_code"] for row in rows} == {"N"}
    assert {row["url"].rsplit("/", 1)[-1] for row in rows} <= set(data.audits.values())


def test_an_audit_row_as_csv(client, organisation, data):
    rows = export(client, organisation, "admin", "audits.csv", f"{PERIOD}&region=N")
    a3 = next(row for row in rows if row["url"].endswith(data.audits["a3"]))
    assert {key: a3[key] for key in exports.AUDIT_COLUMNS if key != "auditor"} == {
        "location_code": "N1", "location_name": "North One", "region_code": "N",
        "region_name": "North", "timezone": "Europe/Madrid", "checklist_id": WALK_IN,
        "checklist_version": a3["checklist_version"],
        # 15 Nov 23:28 and 23:30 UTC, on Madrid's clock
        "started_at": "2026-11-16 00:28:00", "submitted_at": "2026-11-16 00:30:00",
        "score_percent": "80.0", "critical_failed": "True", "failed_items": "greeted_within_5s",
        "photos": "0", "url": f"http://localhost/audits/{data.audits['a3']}"}
    assert a3[f"{WALK_IN}.greeted_within_5s"] == "False"
    assert a3[f"{WALK_IN}.overall_impression"] == "5"
    assert a3[f"{PHONE_CALL}.answered"] == ""  # another checklist's item: blank
    # Oldest first; N3's times on Mexico City's clock.
    assert [row["submitted_at"] for row in rows][:2] == ["2026-11-10 11:00:00", "2026-11-12 10:00:00"]
    c1 = next(row for row in rows if row["url"].endswith(data.audits["c1"]))
    assert (c1["submitted_at"], c1["location_name"]) == ("2026-11-15 23:30:00", "Norte Tres – Coyoacán")
    assert c1["failed_items"] == "smile staff_available"


def test_an_audit_row_as_xlsx(client, organisation, data):
    rows = export(client, organisation, "admin", "audits.xlsx", f"{PERIOD}&region=N")
    a2 = next(row for row in rows if row["url"].endswith(data.audits["a2"]))
    assert a2["submitted_at"] == datetime(2026, 11, 15, 23, 30)
    assert (a2["score_percent"], a2["critical_failed"], a2["photos"]) == (85.7, False, 0)
    assert a2[f"{WALK_IN}.queue_managed"] == "na"
    assert a2[f"{WALK_IN}.floor_clean"] is False
    assert a2[f"{WALK_IN}.first_noticed"] == "A tidy shop and a smile"


# (UTC submission, its local time): each side of both of 2026's clock changes, in Madrid
# (29 March, 25 October, at 01:00 UTC) and in New York (8 March, 1 November).
DST = {
    "N1": [("2026-03-29 00:59:30", "2026-03-29 01:59:30"), ("2026-03-29 01:00:30", "2026-03-29 03:00:30"),
           ("2026-10-25 00:30:00", "2026-10-25 02:30:00"), ("2026-10-25 01:30:00", "2026-10-25 02:30:00")],
    "NY1": [("2026-03-08 06:59:30", "2026-03-08 01:59:30"), ("2026-03-08 07:00:30", "2026-03-08 03:00:30"),
            ("2026-11-01 05:30:00", "2026-11-01 01:30:00"), ("2026-11-01 06:30:00", "2026-11-01 01:30:00")],
}


def test_local_times_across_clock_changes_in_two_timezones(client, organisation):
    """Times on the location's clock either side of a DST change (PostgreSQL converts them in
    the query, SQLite in Python): the same wall time twice in autumn, an hour skipped in spring."""
    organisation.add_locations("NY1,Nueva York – Queens 🗽,N,Street 9,+1 555 000 0009,America/New_York")
    ids = {}
    for code, moments in DST.items():
        for utc, _ in moments:
            at = datetime.fromisoformat(utc).replace(tzinfo=timezone.utc, microsecond=123456)
            ids[submit(client, organisation, "admin", code, at=at)["id"]] = code
    query = "from=2026-03-01&to=2026-11-30&tz=UTC"
    for name in ("audits.csv", "audits.xlsx"):
        rows = export(client, organisation, "admin", name, query)
        got = {}
        for row in rows:
            code = ids[row["url"].rsplit("/", 1)[-1]]
            assert row["timezone"] == {"N1": "Europe/Madrid", "NY1": "America/New_York"}[code]
            got.setdefault(code, []).append((str(row["started_at"]), str(row["submitted_at"])))
        # Oldest first; started two minutes before (across the change itself for the 2nd).
        assert got["N1"] == [("2026-03-29 01:57:30", "2026-03-29 01:59:30"),
                             ("2026-03-29 01:58:30", "2026-03-29 03:00:30"),
                             ("2026-10-25 02:28:00", "2026-10-25 02:30:00"),
                             ("2026-10-25 02:28:00", "2026-10-25 02:30:00")]
        assert [local for _, local in got["N1"]] == [local for _, local in DST["N1"]]
        assert [local for _, local in got["NY1"]] == [local for _, local in DST["NY1"]]
        assert got["NY1"][1][0] == "2026-03-08 01:58:30"


def test_the_checklist_filter_decides_the_item_columns(client, organisation, data):
    r = fetch(client, organisation, "admin", f"/api/v1/exports/audits.csv?{PERIOD}&checklist_id={PHONE_CALL}")
    header = next(csv.reader(io.StringIO(r.get_data().decode("utf-8-sig"))))
    items = header[len(exports.AUDIT_COLUMNS):]
    assert items[0] == f"{PHONE_CALL}.answered" and len(items) == 16
    assert all(column.startswith(PHONE_CALL + ".") for column in items)


def test_a_location_filter_gives_the_audit_lists_total(client, organisation, data):
    n1 = organisation.locations["N1"]
    rows = export(client, organisation, "manager", "audits.csv", f"{PERIOD}&location_id={n1}")
    listed = fetch(client, organisation, "manager", f"/api/v1/audits?location_id={n1}"
                   "&since=2026-11-08T23:00:00Z&until=2026-11-22T23:00:00Z").get_json()
    assert len(rows) == listed["total"] == 3
    assert {row["url"].rsplit("/", 1)[-1] for row in rows} == {a["id"] for a in listed["items"]}


def test_each_role_exports_what_it_sees(client, organisation, data):
    everything = "from=2026-10-01&to=2026-11-30"
    assert {r["location_code"] for r in export(client, organisation, "admin", "audits.csv", everything)} == {
        "N1", "N2", "N3", "S1"}
    assert {r["location_code"] for r in export(client, organisation, "regional", "audits.csv", everything)} == {
        "N1", "N2", "N3"}
    assert {r["location_code"] for r in export(client, organisation, "manager", "audits.xlsx", everything)} == {
        "N1"}
    assert {r["location_code"] for r in export(client, organisation, "manager_s", "actions.csv", everything)} == set()
    assert len(export(client, organisation, "manager", "audits.csv", f"{everything}&region=N")) == 4


@pytest.mark.parametrize("role, query, field", [
    ("regional", "region=S", "region"),
    ("manager", "region=S", "region"),
    ("admin", "region=NOPE", "region"),
    ("regional", "location_id=S1", "location_id"),
    ("manager", "location_id=N2", "location_id"),
    ("admin", "location_id=999999", "location_id"),
])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_out_of_scope_filters_are_422(client, organisation, role, query, field, name):
    if "S1" in query or "N2" in query:
        code = query.rsplit("=", 1)[1]
        query = f"location_id={organisation.locations[code]}"
    r = fetch(client, organisation, role, f"/api/v1/exports/{name}?{query}", 422)
    assert r.mimetype == "application/json"
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("query, field", [
    ("period=yesterday", "period"),
    ("period=last_7_days&from=2026-11-01&to=2026-11-02", "period"),
    ("from=2026-11-02&to=2026-11-01", "to"),
    ("from=2026-11-01", "to"),
    ("from=1999-12-31&to=2026-11-01", "from"),
    ("tz=Europe/Atlantis", "tz"),
    ("checklist_id=mystery_shop", "checklist_id"),
    ("region=no%20such", "region"),
    ("location_id=0", "location_id"),
    ("format=pdf", "format"),
])
@pytest.mark.parametrize("name", ENDPOINTS)
def test_bad_filters_are_json_422_before_any_byte(client, organisation, name, query, field):
    r = client.get(f"/api/v1/exports/{name}?{query}", headers=organisation.headers("admin"),
                   buffered=False)
    assert r.status_code == 422
    assert r.mimetype == "application/json" and "Content-Disposition" not in r.headers
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("name", ENDPOINTS)
def test_exports_need_a_signed_in_user(client, name):
    assert client.get(f"/api/v1/exports/{name}").status_code == 401


def test_a_period_longer_than_a_reports(client, organisation, data):
    rows = export(client, organisation, "admin", "audits.csv", "from=2024-01-01&to=2026-12-31")
    assert len(rows) == len(data.audits)


def test_file_names_and_headers(client, organisation, data):
    r = fetch(client, organisation, "regional",
              f"/api/v1/exports/audits.csv?{PERIOD}&region=N&checklist_id={WALK_IN}")
    assert r.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert r.headers["Content-Disposition"] == (
        f'attachment; filename="momento_audits_N_{WALK_IN}_2026-11-09_2026-11-22.csv"')
    n1 = organisation.locations["N1"]
    r = fetch(client, organisation, "manager", f"/api/v1/exports/actions.xlsx?{PERIOD}&location_id={n1}")
    assert r.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert r.headers["Content-Disposition"] == (
        "attachment; filename=momento_actions_N1_2026-11-09_2026-11-22.xlsx")


def test_an_empty_export_has_its_header(client, organisation):
    rows = fetch(client, organisation, "admin", "/api/v1/exports/audits.csv").get_data().decode("utf-8-sig")
    assert rows.startswith("location_code,location_name,") and rows.count("\n") == 1
    assert read_xlsx(fetch(client, organisation, "admin", "/api/v1/exports/actions.xlsx")) == []


def test_action_rows_are_the_actions_opened_in_the_period(client, organisation, data):
    everything = "from=2026-10-01&to=2026-11-30"
    rows = export(client, organisation, "regional", "actions.csv", everything)
    listed = fetch(client, organisation, "regional", "/api/v1/actions?per_page=200").get_json()
    assert len(rows) == listed["total"] == len(ReportData.ACTIONS)
    assert {int(row["id"]) for row in rows} == {a["id"] for a in listed["items"]}
    # Opened 1 Nov (a0's smell): before the period.
    in_period = export(client, organisation, "regional", "actions.xlsx", PERIOD)
    assert len(in_period) == len(ReportData.ACTIONS) - 1
    smile = next(row for row in in_period if row["location_code"] == "N3" and row["item_id"] == "smile")
    assert smile["status"] == "done" and smile["critical"] is False and smile["overdue"] is False
    assert smile["first_done_at"] == datetime(2026, 11, 17, 23, 30)  # 18 Nov 05:30 UTC in Mexico City
    assert smile["due_at"] == datetime(2026, 11, 16, 23, 30)
    assert smile["audit_url"] == f"http://localhost/audits/{data.audits['c1']}"
    assert smile["url"] == f"http://localhost/actions/{smile['id']}"
    phone = export(client, organisation, "admin", "actions.csv", f"{PERIOD}&checklist_id={PHONE_CALL}")
    assert {row["item_id"] for row in phone} == {"answered", "not_my_department", "owned"}


def test_an_actions_title_is_in_the_readers_language(client, organisation, data):
    url = f"/api/v1/exports/actions.csv?{PERIOD}&checklist_id={PHONE_CALL}"
    for language, title in (("en", "Make sure someone always answers the phone"),
                            ("es", "Asegurar que alguien conteste siempre el teléfono")):
        r = client.get(url, headers={**organisation.headers("admin"), "Accept-Language": language})
        answered = next(row for row in read_csv(r) if row["item_id"] == "answered")
        assert answered["title"] == title


HOSTILE = ["=HYPERLINK(\"http://evil.example\",\"click\")", "+1+1", "-2+3", "@SUM(A1:A2)",
           "\tTab", "\rCR", "Olé 🎄 «ñandú»", "bell\x07 and\x1b escape"]


@pytest.mark.parametrize("text", HOSTILE)
def test_messy_text_is_safe_in_both_files(client, organisation, text):
    submit(client, organisation, answers=best_walk_in() | {"first_noticed": {"value": text}})
    column = f"{WALK_IN}.first_noticed"
    (row,) = export(client, organisation, "manager", "audits.csv", "period=last_7_days")
    written = row[column]
    if text[0] in "=+-@\t\r":
        assert written == "'" + text  # a spreadsheet shows it, never runs it
    else:
        assert written == text
    r = fetch(client, organisation, "manager", "/api/v1/exports/audits.xlsx?period=last_7_days")
    sheet = openpyxl.load_workbook(io.BytesIO(r.get_data())).worksheets[0]
    header = [cell.value for cell in sheet[1]]
    cell = sheet.cell(row=2, column=header.index(column) + 1)
    assert cell.data_type == "s"  # text, not a formula
    # Control characters a workbook cannot hold are left out; XML reads a CR as a line end.
    assert cell.value == text.replace("\x07", "").replace("\x1b", "").replace("\r", "\n")


def test_nul_and_control_characters_in_the_writers():
    """Text the API refuses (NUL) or a workbook cannot hold still gives a file."""
    rows = [["a\x00b", "c\x01d\x1fe", "ok ✓"]]
    text = b"".join(exports.csv_chunks(["x", "y", "z"], iter(rows))).decode("utf-8-sig")
    assert list(csv.reader(io.StringIO(text))) == [["x", "y", "z"], ["a\x00b", "c\x01d\x1fe", "ok ✓"]]
    with exports.xlsx_file("t", ["x", "y", "z"], iter(rows)) as output:
        sheet = openpyxl.load_workbook(output).worksheets[0]
        assert [cell.value for cell in sheet[2]] == ["ab", "cde", "ok ✓"]


def test_a_sheet_too_long_for_excel_is_422(client, organisation, data, monkeypatch):
    monkeypatch.setattr(exports, "XLSX_MAX_ROWS", 2)
    r = fetch(client, organisation, "admin", f"/api/v1/exports/audits.xlsx?{PERIOD}", 422)
    assert "period" in r.get_json()["error"]["fields"]
    assert len(export(client, organisation, "admin", "audits.csv", PERIOD)) > 2


def test_exports_stream_through_a_real_server(gunicorn_server, organisation, data):
    url = f"{gunicorn_server}/api/v1/exports/audits.csv?{PERIOD}&region=N"
    with requests.get(url, headers=organisation.headers("regional"), stream=True, timeout=60) as r:
        assert r.status_code == 200
        assert r.headers["Transfer-Encoding"] == "chunked" and "Content-Length" not in r.headers
        text = b"".join(r.iter_content(chunk_size=None)).decode("utf-8-sig")
    assert len(list(csv.DictReader(io.StringIO(text)))) == 9
    r = requests.get(f"{gunicorn_server}/api/v1/exports/actions.xlsx?{PERIOD}",
                     headers=organisation.headers("regional"), timeout=60)
    assert r.status_code == 200
    assert len(list(openpyxl.load_workbook(io.BytesIO(r.content)).worksheets[0].iter_rows())) == 10
    bad = requests.get(f"{gunicorn_server}/api/v1/exports/audits.csv?period=ever",
                       headers=organisation.headers("regional"), timeout=60)
    assert bad.status_code == 422 and bad.json()["error"]["fields"] == {
        "period": [bad.json()["error"]["fields"]["period"][0]]}


class FakeResult:
    """partitions() as a streamed Result gives them; fails after `fail_after` chunks."""

    def __init__(self, chunks, fail_after=None):
        self.chunks, self.fail_after, self.fetched = chunks, fail_after, 0

    def partitions(self, size):
        for chunk in self.chunks:
            if self.fail_after is not None and self.fetched == self.fail_after:
                raise RuntimeError("connection lost")
            self.fetched += 1
            yield chunk


class FakeConnection:
    closed = False

    def close(self):
        self.closed = True


def test_read_ahead_gives_every_row_in_order_then_closes():
    chunks = [[(i, "fila ñ") for i in range(n, n + 3)] for n in range(0, 30, 3)]
    connection = FakeConnection()
    assert list(exports._read_ahead(FakeResult(chunks), connection)) == [r for c in chunks for r in c]
    assert connection.closed


def test_read_ahead_raises_the_fetchs_error_where_rows_are_read():
    connection = FakeConnection()
    rows = exports._read_ahead(FakeResult([[1, 2], [3], [4]], fail_after=2), connection)
    assert [next(rows) for _ in range(3)] == [1, 2, 3]
    with pytest.raises(RuntimeError, match="connection lost"):
        next(rows)
    assert connection.closed


def test_read_ahead_stops_fetching_when_the_reader_goes():
    """A client that hangs up: the fetching thread stops (it holds at most a chunk queued and
    one in hand) and the connection is closed."""
    result, connection = FakeResult([[n] for n in range(1000)]), FakeConnection()
    rows = exports._read_ahead(result, connection)
    assert next(rows) == 0
    rows.close()
    assert connection.closed and result.fetched <= 3
