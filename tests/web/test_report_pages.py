"""The report pages as people read them: a region's report, the organisation overview and
the audits where an item failed; their period form; who may see them. The figures are
worked out by hand from the small data set below."""
import re
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from babel.dates import format_date

from audit_server.extensions import db
from audit_server.models import CorrectiveAction
from audit_server.models.types import utcnow
from audit_server.services import org, reports
from audit_server.web.reports import PRESETS
from tests.helpers import PASSWORD, PHONE_CALL, best_phone, failing, local_noon, set_columns, submit

MADRID = ZoneInfo("Europe/Madrid")
ENGLISH = {"Accept-Language": "en"}
SPANISH = {"Accept-Language": "es"}


class ReportPage(HTMLParser):
    """What a report page shows: the body rows of each table with an id, as lists of cell
    texts (a chart's own table, inside a cell, left out), and each headline figure by
    the id of its section: {name: "value | change | previous period | ..."}."""

    def __init__(self, html):
        super().__init__()
        self.tables, self.tiles = {}, {}
        self._table = self._row = self._cell = None
        self._section = self._tile = self._part = None
        self._nested = 0
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if self._nested or (tag == "table" and self._table is not None):
            self._nested += tag == "table"
        elif tag == "section" and "id" in attributes:
            self._section = attributes["id"]
        elif tag == "table" and "id" in attributes:
            self._table = self.tables.setdefault(attributes["id"], [])
        elif (tag == "tbody" and self._table is not None) or (tag == "tr" and self._row is not None):
            self._row = []  # a row of the body begins
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "div" and attributes.get("class") == "tile":
            self._tile = []
        elif tag in ("dt", "dd") and self._tile is not None:
            self._part = []

    def handle_data(self, data):
        for collecting in (self._cell, self._part):
            if collecting is not None and not self._nested:
                collecting.append(data)

    def handle_endtag(self, tag):
        def text(parts):
            return " ".join("".join(parts).split())

        if self._nested:
            self._nested -= tag == "table"
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(text(self._cell))
            self._cell = None
        elif tag == "tr" and self._row:
            self._table.append(self._row)
            self._row = []
        elif tag == "tbody":
            self._row = None
        elif tag == "table":
            self._table = None
        elif tag in ("dt", "dd") and self._part is not None:
            self._tile.append(text(self._part))
            self._part = None
        elif tag == "div" and self._tile is not None:
            self.tiles.setdefault(self._section, {})[self._tile[0]] = " | ".join(self._tile[1:])
            self._tile = None


@pytest.fixture
def region_n(client, organisation, app):
    """Region N on a small, messy data set (days back are on the locations' clocks):
    N1 walk-ins: 40 days ago smile and floor failed (73.3 %), 3 days ago the floor failed
    (86.7 %), 2 days ago all passed (100 %); N2: a walk-in 1 day ago with the critical
    greeting failed (80 %), a phone call 20 days ago, all best (100 %); N3 never audited.
    S1 (region S): a walk-in 2 days ago, all passed. The smile's action was first done
    exactly 720 hours after it opened (late); the floor's is overdue; the greeting's is
    open and due tomorrow."""
    org.import_locations("code,name,region,address,phone,timezone\n"
                         "N3,Norte Tres ☕,N,Calle 3,+34 900 000 003,Europe/Madrid\n")
    db.session.commit()
    submit(client, organisation, "regional", "N1", failing("smile", "floor_clean"), local_noon(40))
    submit(client, organisation, "regional", "N1", failing("floor_clean"), local_noon(3))
    submit(client, organisation, "regional", "N1", None, local_noon(2))
    greeting = submit(client, organisation, "regional", "N2", failing("greeted_within_5s"), local_noon(1))
    submit(client, organisation, "regional", "N2", best_phone(), local_noon(20), checklist=PHONE_CALL)
    submit(client, organisation, "admin", "S1", None, local_noon(2, "America/Mexico_City"))
    actions = {a.item_id: a for a in db.session.scalars(sa.select(CorrectiveAction))}
    assert set(actions) == {"smile", "floor_clean", "greeted_within_5s"}
    smile = actions["smile"]
    done = smile.opened_at + timedelta(hours=720)
    set_columns(app, smile.id, status="done", first_done_at=done, closed_at=done)
    set_columns(app, actions["greeted_within_5s"].id, due_at=utcnow() + timedelta(days=1))
    return {"critical_audit": greeting["id"]}


def report(web, path="/reports/regions/N", headers=ENGLISH):
    response = web.get(path, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)[:2000]
    return ReportPage(response.get_data(as_text=True))


def test_the_region_report_shows_the_figures_as_worked_out_by_hand(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    html = web.get("/reports/regions/N", headers=ENGLISH).get_data(as_text=True)
    assert re.findall(r'class="sub( stale)?">(\d+ days? ago)', html) == [
        (" stale", "20 days ago"), ("", "1 day ago"), ("", "2 days ago")]  # 14 days or more stand out
    page = ReportPage(html)
    headline = page.tiles["headline"]
    # Walk-in: the mean of the audits' scores (86.7 + 100 + 80) / 3 = 88.9, not of the
    # locations' means (93.4 and 80: 86.7); before: 73.3, so +15.6 points.
    assert headline["Five-second walk-in"] == "89 % | 3 audits | ▲ +16 pts better | Previous period: 73 %"
    assert headline["Call your own number"] == "100 % | 1 audit | Previous period: —"
    assert headline["Audits"] == "4 | ▲ +3 | Previous period: 1"
    assert headline["Locations audited"] == "2 | of 3 locations | ▲ +1 better | Previous period: 1"
    assert headline["Critical failures"] == "1 | ▲ +1 worse | Previous period: 0"
    assert headline["Overdue actions"] == "1 | now"
    assert headline["Actions closed on time"] == "0 % | Previous period: —"

    ranking = page.tables["ranking"]
    # N2 (80 and 100: 90) before N1 (86.7 and 100: 93.35); N3 after, not audited.
    assert [row[0] for row in ranking] == ["1 North Two N2", "2 North One N1", "Not audited in this period",
                                           "— Norte Tres ☕ N3"]
    north_two, north_one = ranking[0], ranking[1]
    # Score, all checklists | phone: score, 12 weeks, latest | walk-in: ... | critical | open, overdue, hours, on time
    assert north_two[1] == "90 % 2 audits"
    assert north_two[2] == "100 % 1 audit"
    assert re.fullmatch(r"100 % .+ 20 days ago", north_two[4])
    assert north_two[5] == "80 % 1 audit"
    assert re.fullmatch(r"80 % .+ 1 day ago", north_two[7])
    assert north_two[8:] == ["1 ▲ +1 worse", "1", "0", "—", "—"]
    assert north_one[5] == "93 % ▲ +20 pts better 2 audits"  # 93.35 against 73.3
    assert re.fullmatch(r"100 % .+ 2 days ago", north_one[7])
    assert north_one[3:5] == ["", "never audited"]  # no phone call: no line, no latest
    assert north_one[8:] == ["0 = 0 no change", "1", "1", "720.0 h", "0 %"]

    failed = page.tables["most-failed"]  # 1 of 3 each: too few answers to be ranked
    assert [row[0] for row in failed] == [
        "Is the floor clean? Five-second walk-in Fewer than 5 answers: not ranked",
        ("Did anyone make eye contact or greet you within five seconds? Five-second walk-in "
         "Fewer than 5 answers: not ranked")]
    assert failed[0][1:] == ["33 % ▼ −67 pts better", "1 of 3", "1"]  # it failed the 1 audit before
    assert failed[1][1:] == ["33 % ▲ +33 pts worse", "1 of 3", "1"]  # it passed the 1 audit before

    phone = page.tiles["phone-figures"]
    assert phone["Calls"] == "1 | ▲ +1 | Previous period: 0"  # more calls: neither better nor worse
    assert phone["Answered"] == "100 % | Previous period: —"
    assert phone["Median rings"] == "2 | Previous period: —"
    assert phone["Median hold"] == "10 s | Previous period: —"
    actions = page.tiles["action-figures"]
    assert actions["Open"] == "2 | now" and actions["Overdue"] == "1 | now"
    assert actions["Closed in the period"] == "1 | ▲ +1 | Previous period: 0"
    assert actions["Median hours to close"] == "720.0 h | Previous period: —"


def test_the_report_in_spanish(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    page = report(web, headers=SPANISH)
    headline = page.tiles["headline"]
    assert headline["Entrada de cinco segundos"] == (
        "89 % | 3 auditorías | ▲ +16 ptos mejor | Periodo anterior: 73 %")
    assert page.tiles["action-figures"]["Mediana de horas hasta cerrar"] == "720,0 h | Periodo anterior: —"


def test_every_preset_the_service_knows_is_offered():
    assert list(PRESETS) == list(reports.PRESETS)


def test_the_period_form_chooses_the_period_and_the_checklist(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    assert re.search(r'<a href="/reports/regions/N\?period=last_30_days"\s+aria-current="page">',
                     web.get("/reports/regions/N").get_data(as_text=True))  # the default
    week = report(web, "/reports/regions/N?period=last_7_days")
    # The three walk-ins of the last 3 days; nothing in the 7 days before them.
    assert week.tiles["headline"]["Five-second walk-in"] == "89 % | 3 audits | Previous period: —"
    first, last = (local_noon(days).astimezone(MADRID).date() for days in (45, 35))
    custom = report(web, f"/reports/regions/N?from={first}&to={last}")  # 40 days ago only
    assert custom.tiles["headline"]["Five-second walk-in"].startswith("73 % | 1 audit")
    html = web.get("/reports/regions/N?from=2026-11-02&to=2026-11-08", headers=ENGLISH).get_data(as_text=True)
    assert ("From Nov 2, 2026 to Nov 8, 2026, compared with Oct 26, 2026 to Nov 1, 2026." in html
            and 'value="2026-11-02"' in html and 'value="2026-11-08"' in html)  # the form keeps them
    walk_in = report(web, "/reports/regions/N?checklist_id=five_second_walk_in")
    assert "Call your own number" not in walk_in.tiles["headline"]
    assert "phone-figures" not in walk_in.tiles
    html = web.get("/reports/regions/N?period=last_7_days&checklist_id=five_second_walk_in").get_data(as_text=True)
    # The links keep the rest: another preset keeps the checklist, an item's audits the period.
    assert 'href="/reports/regions/N?period=last_90_days&amp;checklist_id=five_second_walk_in"' in html
    assert 'href="/reports/regions/N/items/five_second_walk_in/floor_clean?period=last_7_days"' in html


PAGES = ("/reports/regions/N", "/reports", "/reports/regions/N/items/five_second_walk_in/floor_clean")


@pytest.mark.parametrize("query, sentence, paths", [
    ("from=2026-12-01&to=2026-11-01", "the first no later than the second", PAGES),
    ("from=2024-01-01&to=2026-01-01", "at most 400 days apart", PAGES),
    ("from=2026-11-01", "Give both dates", PAGES),
    ("from=yesterday&to=today", "Give both dates", PAGES),
    ("from=1999-12-31&to=2000-01-02", "from the year 2000 to 2099", PAGES),
    ("period=yesterday", "Choose one of the periods offered", PAGES),
    ("period=last_7_days&from=2026-11-01&to=2026-11-02", "Choose one of the periods offered, or two dates, not both", PAGES),
    ("tz=Mars/Olympus_Mons", "There is no such time zone", PAGES),
    ("checklist_id=nothing_like_it", "There is no such checklist", PAGES[:2]),  # an item's page is of its checklist
    ("checklist_id=N%C3%B6+%F0%9F%99%82", "There is no such checklist", PAGES[:2]),
])
def test_a_period_that_cannot_be_shown_is_a_page_saying_why(web, organisation, region_n, query, sentence, paths):
    web.login(organisation.emails["regional"])
    for path in paths:
        response = web.get(f"{path}?{query}", headers=ENGLISH)
        assert response.status_code == 422, (path, query)
        assert response.mimetype == "text/html"
        html = response.get_data(as_text=True)
        assert sentence in html, (path, query)
        assert 'role="alert"' in html and 'name="from"' in html  # the form, to choose again


def test_a_refused_period_is_said_in_spanish(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    html = web.get("/reports/regions/N?from=2026-12-01&to=2026-11-01", headers=SPANISH).get_data(as_text=True)
    assert "la primera no posterior a la segunda" in html


def test_the_audits_where_an_item_failed(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    page = report(web, "/reports/regions/N/items/five_second_walk_in/greeted_within_5s")
    rows = page.tables["failed-audits"]
    assert len(rows) == 1 and rows[0][1:3] == ["North Two", "80 %"]
    html = web.get("/reports/regions/N/items/five_second_walk_in/greeted_within_5s").get_data(as_text=True)
    assert f'href="/audits/{region_n["critical_audit"]}"' in html
    assert report(web, "/reports/regions/N/items/five_second_walk_in/smile?period=last_7_days").tables.get(
        "failed-audits") is None  # the smile failed 40 days ago only
    assert web.get("/reports/regions/N/items/five_second_walk_in/no_such_item").status_code == 404
    assert web.get("/reports/regions/N/items/five_second_walk_in/smile?page=junk").status_code == 200
    assert web.get("/reports/regions/N/items/no_such_checklist/smile").status_code == 404


def test_the_audits_where_an_item_failed_come_a_page_at_a_time(web, organisation, region_n, monkeypatch):
    monkeypatch.setattr("audit_server.web.reports.PER_PAGE", 1)
    web.login(organisation.emails["regional"])
    path = "/reports/regions/N/items/five_second_walk_in/floor_clean?period=last_90_days"
    first = web.get(path, headers=ENGLISH).get_data(as_text=True)  # 3 and 40 days ago, newest first
    assert [row[0] for row in ReportPage(first).tables["failed-audits"]] == [written_day(3)]
    assert "Page 1 of 2" in first
    assert 'href="/reports/regions/N/items/five_second_walk_in/floor_clean?period=last_90_days&amp;page=2#audits-title"' in first
    second = ReportPage(web.get(path + "&page=2", headers=ENGLISH).get_data(as_text=True))
    assert [row[0] for row in second.tables["failed-audits"]] == [written_day(40)]


def written_day(days_ago):
    """A day `days_ago` days back on Madrid's clock, as an English page writes it."""
    return format_date(local_noon(days_ago).astimezone(MADRID).date(), format="medium", locale="en")


def test_the_overview_shows_each_region_the_admin_sees(web, organisation, region_n):
    web.login(organisation.emails["admin"])
    page = report(web, "/reports")
    assert page.tiles["all-regions"]["Audits"].startswith("5 |")
    assert page.tiles["region-N"]["Five-second walk-in"].startswith("89 % | 3 audits")
    assert page.tiles["region-S"]["Five-second walk-in"].startswith("100 % | 1 audit")
    html = web.get("/reports?period=last_7_days").get_data(as_text=True)
    assert 'href="/reports/regions/S?period=last_7_days"' in html
    web.login(organisation.emails["regional"])
    regional = report(web, "/reports")
    assert "region-N" in regional.tiles and "region-S" not in regional.tiles


def test_who_sees_what(web, organisation, region_n, client):
    south = submit(client, organisation, "admin", "S1")
    north_one = submit(client, organisation, "manager", "N1")
    web.login(organisation.emails["regional"])
    assert web.get("/reports/regions/S").status_code == 404
    assert web.get("/reports/regions/S?from=2026-12-01&to=2026-11-01").status_code == 404  # not 422: no hint
    assert web.get("/reports/regions/S/items/five_second_walk_in/smile").status_code == 404
    assert web.get("/reports/regions/NOPE").status_code == 404
    assert web.get("/locations/S1").status_code == 404
    assert web.get(f"/audits/{south['id']}").status_code == 404
    assert web.get("/locations/N2").status_code == 200
    web.login(organisation.emails["manager"])
    for path in ("/reports", "/reports/regions/N", "/reports?period=nonsense",
                 "/reports/regions/N/items/five_second_walk_in/smile"):
        assert web.get(path).status_code == 404, path
    assert web.get("/locations/N1").status_code == 200
    assert web.get(f"/audits/{north_one['id']}").status_code == 200
    assert web.get("/locations/N2").status_code == 404
    assert web.get(f"/audits/{region_n['critical_audit']}").status_code == 404  # N2's
    assert "/reports" not in web.get("/").get_data(as_text=True)  # no Reports in her menu


def test_reports_are_in_the_menu_of_regional_managers_and_admins(web, organisation):
    for role in ("regional", "admin"):
        web.login(organisation.emails[role])
        assert '<a href="/reports"' in web.get("/", headers=ENGLISH).get_data(as_text=True)


def test_the_region_report_over_real_http(gunicorn_server, organisation, region_n):
    """Through gunicorn's workers, sockets and the compression of pages."""
    session = requests.Session()
    login = session.get(f"{gunicorn_server}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    session.post(f"{gunicorn_server}/login", data={"email": organisation.emails["regional"],
                                                  "password": PASSWORD, "csrf_token": token})
    response = session.get(f"{gunicorn_server}/reports/regions/N", headers=ENGLISH)
    assert response.status_code == 200
    page = ReportPage(response.text)
    assert page.tiles["headline"]["Five-second walk-in"].startswith("89 % | 3 audits")
    refused = session.get(f"{gunicorn_server}/reports/regions/N?from=2026-12-01&to=2026-11-01")
    assert refused.status_code == 422 and "text/html" in refused.headers["Content-Type"]


def test_the_regional_home_has_a_card_per_region_with_its_last_30_days(web, organisation, region_n):
    web.login(organisation.emails["regional"])
    home = web.get("/", headers=ENGLISH).get_data(as_text=True)
    cards = ReportPage(home).tiles
    assert set(cards) == {"region-N"}
    assert cards["region-N"]["Five-second walk-in"] == "89 % | 3 audits | ▲ +16 pts better | Previous period: 73 %"
    assert cards["region-N"]["Overdue actions"] == "1 | now"
    assert 'href="/reports/regions/N"' in home and 'href="/reports" aria-current' not in home
    web.login(organisation.emails["admin"])
    home = web.get("/", headers=ENGLISH).get_data(as_text=True)
    assert set(ReportPage(home).tiles) == {"region-N", "region-S"}
    assert "All regions side by side" in home


def download_links(html):
    return [link.replace("&amp;", "&") for link in
            re.findall(r'<a href="(/api/v1/exports/[^"]+)" download>', html)]


@pytest.mark.parametrize("query", ["", "?period=last_7_days&checklist_id=five_second_walk_in",
                                   "?from=2026-01-01&to=2026-12-31&tz=America/Mexico_City"])
def test_the_downloads_carry_the_filters_on_screen(web, organisation, region_n, query):
    web.login(organisation.emails["regional"])
    html = web.get(f"/reports/regions/N{query}", headers=ENGLISH).get_data(as_text=True)
    links = download_links(html)
    assert [link.split("?")[0].rsplit("/", 1)[1] for link in links] == [
        "audits.csv", "audits.xlsx", "actions.csv", "actions.xlsx"]
    asked = dict(parse_qsl(query[1:]))
    for link in links:  # the page's, its clock (the region's usual one unless asked) and its region
        assert dict(parse_qsl(link.split("?")[1])) == {
            **asked, "region": "N", "tz": asked.get("tz", "Europe/Madrid")}
    audits = web.get(links[0])  # the page's own session downloads them
    assert audits.status_code == 200 and "attachment" in audits.headers["Content-Disposition"]
    rows = audits.get_data().decode("utf-8-sig").splitlines()[1:]
    api = web.get(f"/api/v1/reports/regions/N{query}").get_json()
    assert len(rows) == api["summary"]["audits"]["value"] > 0


def test_the_overview_offers_the_downloads_of_every_region(web, organisation, region_n):
    web.login(organisation.emails["admin"])
    links = download_links(web.get("/reports?period=last_90_days").get_data(as_text=True))
    assert len(links) == 4 and all("region=" not in link for link in links)
    rows = web.get(links[0]).get_data().decode("utf-8-sig").splitlines()[1:]
    assert {row.split(",")[0] for row in rows} == {"N1", "N2", "S1"}
