"""What is due, on the pages: the manager's two audit buttons say each checklist's state
(in English and Spanish), and the region report's coverage section."""
import re
from datetime import datetime, timedelta
from html import unescape
from zoneinfo import ZoneInfo

from babel.dates import format_date

from audit_server.services import cadence
from tests.helpers import PHONE_CALL, WALK_IN, local_noon, submit

ENGLISH, SPANISH = {"Accept-Language": "en"}, {"Accept-Language": "es-ES,es;q=0.9"}


def button_states(page):
    """{audit path: the state under its button's label}."""
    found = re.findall(r'href="/audit/(walk-in|phone)\?location=\d+">.*?'
                       r'<span class="due-state (\w+)">([^<]*)</span>', page, re.S)
    return {path: (state, unescape(text)) for path, state, text in found}


def days_ago(n):
    return datetime.now(ZoneInfo("Europe/Madrid")).date() - timedelta(days=n)


def home(web, organisation, role="manager", headers=ENGLISH, path="/"):
    web.login(organisation.emails[role])
    response = web.get(path, headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_the_buttons_say_done_on_a_weekday_and_overdue_by_days(web, client, organisation):
    submit(client, organisation, location="N1", at=local_noon(3))
    submit(client, organisation, location="N1", at=local_noon(20), checklist=PHONE_CALL)
    weekday = format_date(days_ago(3), "EEEE", locale="en")
    assert button_states(home(web, organisation)) == {
        "walk-in": ("done", f"Done on {weekday}"), "phone": ("overdue", "Overdue by 6 days")}
    spanish = home(web, organisation, headers=SPANISH)
    assert button_states(spanish) == {
        "walk-in": ("done", f"Hecha el {format_date(days_ago(3), 'EEEE', locale='es')}"),
        "phone": ("overdue", "Atrasada 6 días")}


def test_due_today_never_done_and_one_day(web, client, organisation):
    submit(client, organisation, location="N1", at=local_noon(7))
    assert button_states(home(web, organisation)) == {
        "walk-in": ("due", "Due today"), "phone": ("due", "Due: never done")}
    assert button_states(home(web, organisation, headers=SPANISH)) == {
        "walk-in": ("due", "Toca hoy"), "phone": ("due", "Toca: nunca se ha hecho")}
    cadence.set_cadence("N", WALK_IN, 6)  # changed: the same audit is now a day late
    assert button_states(home(web, organisation))["walk-in"] == ("overdue", "Overdue by 1 day")
    assert button_states(home(web, organisation, headers=SPANISH))["walk-in"] == (
        "overdue", "Atrasada 1 día")


def test_done_today_yesterday_and_more_than_a_week_ago(web, client, organisation):
    submit(client, organisation, location="N1", at=datetime.now(ZoneInfo("UTC")) - timedelta(minutes=5))
    submit(client, organisation, location="N1", at=local_noon(10), checklist=PHONE_CALL)
    assert button_states(home(web, organisation)) == {
        "walk-in": ("done", "Done today"),
        "phone": ("done", "Done on " + format_date(days_ago(10), "medium", locale="en"))}
    cadence.set_cadence("N", WALK_IN, 30)
    submit(client, organisation, location="N2", role="regional", at=local_noon(1))
    page = home(web, organisation, role="regional", path=f"/?location={organisation.locations['N2']}")
    assert button_states(page)["walk-in"] == ("done", "Done yesterday")


def test_a_choice_of_location_shows_no_state_until_one_is_chosen(web, organisation):
    page = home(web, organisation, role="regional", path="/")
    assert "due-state" not in page
    assert web.get(f"/?location={organisation.locations['S1']}").status_code == 404


def test_the_region_report_shows_coverage_and_the_overdue_worst_first(web, client, organisation):
    organisation.add_locations("N3,Nörth Thrée 🏪,N,,,America/Mexico_City")
    submit(client, organisation, location="N1", at=local_noon(1))
    submit(client, organisation, role="regional", location="N2", at=local_noon(12))
    submit(client, organisation, role="admin", location="N3", at=local_noon(9, "America/Mexico_City"))
    page = home(web, organisation, role="regional", path="/reports/regions/N?period=last_7_days")
    section = page[page.index('id="coverage"'):page.index("</section>", page.index('id="coverage"'))]
    assert "Coverage" in section and "every 7 days" in section and "every 14 days" in section
    assert "1 of 3 locations" in section  # the walk-in: N1
    rows = re.findall(r'<tr>\s*<th scope="row"><a href="(/locations/[^"]+)">([^<]+)</a>.*?'
                      r'<span class="value stale">([^<]+)</span>', section, re.S)
    assert [(href, unescape(name), text) for href, name, text in rows] == [
        ("/locations/N1", "North One", "never audited"),  # the phone checklist, never
        ("/locations/N2", "North Two", "never audited"),
        ("/locations/N3", "Nörth Thrée 🏪", "never audited"),
        ("/locations/N2", "North Two", "5 days"),  # walk-ins, most days overdue first
        ("/locations/N3", "Nörth Thrée 🏪", "2 days")]
    spanish = home(web, organisation, role="regional", headers=SPANISH,
                   path="/reports/regions/N?period=last_7_days")
    assert "Cobertura" in spanish and "Atrasados ahora, el peor primero" in spanish
    assert "5 días" in spanish and "cada 14 días" in spanish
