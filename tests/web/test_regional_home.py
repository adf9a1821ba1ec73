"""The home of a regional manager and of an admin: the fixes waiting for her verification
(oldest first) and the critical failures of the last 7 days, in her scope only. A
manager's home stays as it was."""
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tests.helpers import PHONE_CALL, audit_body, failing, set_columns, submit

ENGLISH = {"Accept-Language": "en"}
GREETED = "Did anyone make eye contact or greet you within five seconds?"


def home(web, email, path="/"):
    web.login(email)
    response = web.get(path, headers=ENGLISH)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def section(page, section_id):
    start = page.index(f'id="{section_id}"')
    return page[start:page.index("</section>", start)]


def done(client, organisation, location, item, ago, role="manager"):
    """An action for `item` at `location`, marked done `ago` before now: its id."""
    audit = submit(client, organisation, role=role, location=location, answers=failing(item))
    action_id = audit["actions"][0]["id"]
    set_columns(client.application, action_id, status="done", closed_at=datetime.now(UTC) - ago)
    return action_id


def test_waiting_for_verification_lists_the_done_actions_of_her_regions_longest_waiting_first(
        client, web, organisation):
    floor_n1 = done(client, organisation, "N1", "floor_clean", timedelta(days=3, hours=2))
    smile_n2 = done(client, organisation, "N2", "smile", timedelta(hours=5), role="regional")
    smile_n1 = done(client, organisation, "N1", "smile", timedelta(days=1, minutes=10))
    floor_s1 = done(client, organisation, "S1", "floor_clean", timedelta(days=10), role="manager_s")
    submit(client, organisation, answers=failing("entrance_clear"))  # open: not waiting
    verified = done(client, organisation, "N2", "lighting_signage", timedelta(days=20), role="regional")
    set_columns(client.application, verified, status="verified")

    waiting = section(home(web, organisation.emails["regional"]), "waiting")
    links = re.findall(r'href="/actions/(\d+)"', waiting)
    assert links == [str(floor_n1), str(smile_n1), str(smile_n2)]
    assert "(3)" in waiting and "waiting for 3 days" in waiting and "waiting for 5 hours" in waiting
    assert "Clean and dry the entrance floor" in waiting and "North Two" in waiting
    assert "/actions?show=verify" not in waiting  # all three are shown

    everything = section(home(web, organisation.emails["admin"]), "waiting")
    assert re.findall(r'href="/actions/(\d+)"', everything) == [
        str(floor_s1), str(floor_n1), str(smile_n1), str(smile_n2)]
    assert "waiting for 1 week" in everything


def test_waiting_for_verification_is_capped_and_links_to_the_whole_list(client, web, organisation):
    items = ("greeted_within_5s", "smile", "staff_available", "floor_clean", "entrance_clear", "lighting_signage")
    ids = [done(client, organisation, location, item, timedelta(hours=100 - n), role="regional")
           for n, (location, item) in enumerate((loc, item) for loc in ("N1", "N2") for item in items)]
    waiting = section(home(web, organisation.emails["regional"]), "waiting")
    assert re.findall(r'href="/actions/(\d+)"', waiting) == [str(i) for i in ids[:10]]
    assert 'href="/actions?show=verify"' in waiting and "All 12 waiting" in waiting
    whole = home(web, organisation.emails["regional"], "/actions?show=verify")
    assert re.findall(r'class="action-row waiting-row">\s*<a href="/actions/(\d+)"', whole) == [str(i) for i in ids]
    assert 'aria-current="page">To verify' in whole


def post(client, organisation, answers, at, location="N1", role="manager", checklist_id=None):
    extra = {"started_at": (at - timedelta(minutes=2)).isoformat(), "submitted_at": at.isoformat()}
    body = audit_body(organisation.locations[location], checklist_id or "five_second_walk_in", answers, **extra)
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers(role))
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def test_critical_failures_of_the_last_7_days_newest_first_in_her_scope(client, web, organisation):
    now = datetime.now(UTC)
    greeted = failing("greeted_within_5s")
    newest = post(client, organisation, greeted, now - timedelta(hours=1))
    call = post(client, organisation, {"answered": {"value": False}}, now - timedelta(days=3), location="N2",
                role="regional", checklist_id=PHONE_CALL)
    oldest = post(client, organisation, failing("greeted_within_5s", "floor_clean"),
                  now - timedelta(days=6, hours=23), location="N2", role="regional")
    too_old = post(client, organisation, greeted, now - timedelta(days=7, hours=1))
    not_critical = post(client, organisation, failing("floor_clean"), now - timedelta(hours=2))
    south = post(client, organisation, greeted, now - timedelta(hours=3), location="S1", role="manager_s")

    critical = section(home(web, organisation.emails["regional"]), "critical")
    assert re.findall(r'href="/audits/([0-9a-f-]+)"', critical) == [newest, call, oldest]
    assert "Critical failures of the last 7 days" in critical and "(3)" in critical
    assert critical.count(GREETED) == 2 and "Was the call answered?" in critical
    assert "Is the floor clean?" not in critical  # failed, but not critical
    assert too_old not in critical and not_critical not in critical and south not in critical
    day = (now - timedelta(days=6, hours=23)).astimezone(ZoneInfo("Europe/Madrid")).date()
    assert f"North Two</span>\n      <span class=\"action-meta\">{day:%b} {day.day}, {day.year}</span>" in critical

    everything = section(home(web, organisation.emails["admin"]), "critical")
    assert re.findall(r'href="/audits/([0-9a-f-]+)"', everything) == [newest, south, call, oldest]


def test_a_managers_home_is_unchanged(client, web, organisation):
    done(client, organisation, "N1", "floor_clean", timedelta(days=1))
    post(client, organisation, failing("greeted_within_5s"), datetime.now(UTC) - timedelta(hours=1))
    page = home(web, organisation.emails["manager"])
    assert 'id="waiting"' not in page and 'id="critical"' not in page
    assert "Walk in as a customer" in page  # the one location, chosen, with its two audits


def test_a_regional_manager_still_chooses_a_location_by_its_door(client, web, organisation):
    page = home(web, organisation.emails["regional"], f"/?location={organisation.locations['N2']}")
    assert 'id="chosen-title">North Two' in page and 'id="waiting"' not in page
