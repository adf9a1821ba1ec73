"""A regional manager's morning: she signs in, reads the ranking of her region, opens the
worst location and one of its audits with its photo, then goes back home and verifies a
fix waiting for her; the report is looked at on a phone and a laptop, and printed."""
import uuid

import pytest
from urllib3 import encode_multipart_formdata

from audit_server.extensions import db
from audit_server.models import CorrectiveAction
from tests.helpers import failing, local_noon, submit
from tests.photo_samples import megabyte_jpeg

SMILE = "Welcome every customer with a smile"  # the smile action: the fix as a task
LAPTOP = {"width": 1280, "height": 900}


def change(client, organisation, action_id, **what):
    """The action's manager changes it through the API, as the phone's page does."""
    version = client.get(f"/api/v1/actions/{action_id}", headers=organisation.headers("manager")).get_json()["version"]
    r = client.patch(f"/api/v1/actions/{action_id}", json={"version": version, **what},
                     headers=organisation.headers("manager"))
    assert r.status_code == 200, r.get_json()


@pytest.fixture
def region_n(client, organisation):
    """North One slips (100 % 40 days ago; 66.7 % 3 days ago: the smile, the floor and the
    entrance failed, with a camera photo of the floor); North Two is at 100 %. The
    smile's action is marked done by North One's manager: it waits for verification."""
    submit(client, organisation, "manager", "N1", None, local_noon(40))
    audit = submit(client, organisation, "manager", "N1", failing("smile", "floor_clean", "entrance_clear"),
                   local_noon(3))
    photo = megabyte_jpeg()
    assert len(photo) >= 500_000  # a phone's photo of camera noise, not a flat colour
    body, content_type = encode_multipart_formdata(
        [("id", str(uuid.uuid4())), ("item_id", "floor_clean"), ("photo", ("floor.jpg", photo, "image/jpeg"))])
    uploaded = client.post(f"/api/v1/audits/{audit['id']}/photos", data=body, content_type=content_type,
                           headers=organisation.headers("manager"))
    assert uploaded.status_code == 201, uploaded.get_json()
    submit(client, organisation, "regional", "N2", None, local_noon(2))
    smile = next(a["id"] for a in audit["actions"] if a["item_id"] == "smile")
    change(client, organisation, smile, status="in_progress")
    change(client, organisation, smile, status="done", note="Hablamos con el equipo 🙂")
    return {"audit": audit["id"], "smile": smile, "photo": uploaded.get_json()["id"]}


def nothing_sticks_out(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_regional_manager_reads_her_region_and_verifies_a_fix(person, region_n):
    page = person.page
    person.signs_in("regional")
    card = page.locator("#region-N")
    assert "North" in card.inner_text()
    person.looks_at("reports-0-home")
    card.locator("text=Open the report").click()

    page.wait_for_selector("#ranking")
    ranking = page.locator("#ranking > tbody > tr")
    assert ranking.nth(0).locator("th[scope=row]").inner_text().split() == ["1", "North", "One", "N1"]
    assert ranking.nth(1).locator("th[scope=row]").inner_text().split() == ["2", "North", "Two", "N2"]
    assert "67 %" in ranking.nth(0).inner_text() and "100 %" in ranking.nth(1).inner_text()
    assert nothing_sticks_out(page)  # the ranking scrolls in its own box
    person.looks_at("reports-1-region-390")
    assert person.serious_accessibility_problems() == []

    ranking.nth(0).locator("th[scope=row] a").click()  # the worst location
    page.wait_for_selector("h1:has-text('North One')")
    person.looks_at("reports-2-location")
    page.locator(f"a[href='/audits/{region_n['audit']}']").first.click()
    person.waits_until("() => document.querySelector('.photos img') && document.querySelector('.photos img').naturalWidth > 0")
    assert page.locator(".photos a").first.get_attribute("href") == f"/photos/{region_n['photo']}/display"
    assert "Is the floor clean?" in page.inner_text("main")
    person.looks_at("reports-3-audit")

    page.click(".brand")  # home
    waiting = page.locator("#waiting .action-row", has_text=SMILE)
    assert "North One" in waiting.inner_text()
    waiting.locator("a").click()
    page.click("button:has-text('Verify the fix')")
    page.wait_for_selector(".notice:has-text('Status changed: Verified.')")
    person.looks_at("reports-4-verified")
    db.session.rollback()  # what the server committed
    assert db.session.get(CorrectiveAction, region_n["smile"]).status == "verified"
    page.click(".brand")
    assert "No fix is waiting for your verification." in page.inner_text("#waiting")

    page.set_viewport_size(LAPTOP)  # the same report on a laptop, then on paper
    page.goto("/reports/regions/N")
    assert nothing_sticks_out(page)
    person.looks_at("reports-5-region-1280")
    page.emulate_media(media="print")  # printed to PDF and read back: test_report_print.py
    assert not page.is_visible(".period-form") and not page.is_visible(".topbar")
    assert page.locator("#weekly-title ~ .chart .chart-table").bounding_box()["width"] > 200  # its numbers
    person.looks_at("reports-7-region-print")
    page.emulate_media(media="screen")

    page.click("nav.topnav >> text=Reports")  # her regions side by side: one, here
    page.wait_for_selector("#region-N")
    assert nothing_sticks_out(page)
    person.looks_at("reports-8-overview-1280")
    page.click("#region-N >> text=Open the report")
    page.wait_for_selector("#ranking")
