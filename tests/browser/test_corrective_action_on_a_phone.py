"""A failed item becomes a corrective action: the manager fixes it on the phone, with the
"after" photo, and the regional manager verifies it."""
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from audit_server.extensions import db
from audit_server.models import ActionEvent, CorrectiveAction, Photo
from tests.helpers import WALK_IN_ANSWERS, failing, submit

FLOOR = "Clean and dry the entrance floor"  # the floor_clean action: the fix as a task


def stored_action():
    db.session.rollback()  # see what the server committed since
    return db.session.scalars(sa.select(CorrectiveAction).options(
        selectinload(CorrectiveAction.events).selectinload(ActionEvent.actor))).one()


def overdue_since(action, late):
    action.due_at = datetime.now(timezone.utc) - late
    db.session.commit()


def test_a_failed_item_is_fixed_with_a_photo_and_verified(person, organisation):
    page = person.page
    person.signs_in("manager")
    person.walks_in()
    page.fill("#first_noticed", "Muddy footprints")
    for item_id, value in dict(WALK_IN_ANSWERS, entrance_clear="yes").items():
        person.answers(item_id, value)  # only the floor fails
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    overdue_since(stored_action(), timedelta(days=3, hours=1))  # the manager took their time

    page.click("text=Back to home")  # the new action, on top of the home page
    first = page.locator("#actions-title ~ .actions .action-row").first
    assert FLOOR in first.inner_text() and "North One" in first.inner_text()
    assert first.locator(".badge.overdue").inner_text() == "Overdue by 3 days"
    person.looks_at("actions-0-home")
    first.locator("a").click()
    page.wait_for_selector(f"h1:has-text('{FLOOR}')")
    person.looks_at("actions-2-action-open")
    assert person.serious_accessibility_problems() == []

    page.click("button:has-text('Mark in progress')")
    page.wait_for_selector(".notice:has-text('Status changed: In progress.')")
    page.fill("#status-note", "Mopped and dried.")
    page.click("button:has-text('Mark done')")  # no "after" photo yet: refused, readably
    refusal = page.inner_text("[role=alert]")
    assert 'This item needs an "after" photo of the fix' in refusal
    assert page.input_value("#status-note") == "Mopped and dried."
    person.looks_at("actions-3-refused")

    page.set_input_files("#after-photo", person.camera_photo("after.jpg"))
    page.fill("#caption", "Dry floor")
    page.click("button:has-text('Send the photo')")
    page.wait_for_selector(".notice:has-text('The after photo is added.')")
    person.waits_until("() => document.querySelector('.after-photo img')?.naturalWidth > 0")
    person.looks_at("actions-4-with-photo")
    assert page.input_value("#status-note") == "Mopped and dried."  # kept across the photo
    page.click("button:has-text('Mark done')")
    page.wait_for_selector(".notice:has-text('Status changed: Done.')")
    assert stored_action().status == "done"

    page.click("button:has-text('Sign out')")
    page.wait_for_selector("#login-title")
    person.signs_in("regional")
    page.click("nav.topnav >> text=My actions")
    page.click("text=All I can see")
    page.wait_for_selector(f".action-row:has-text('{FLOOR}')")
    person.looks_at("actions-1-list-regional")
    assert person.serious_accessibility_problems() == []
    page.click(f".action-row:has-text('{FLOOR}') a")
    page.click("button:has-text('Verify the fix')")
    page.wait_for_selector(".notice:has-text('Status changed: Verified.')")
    person.looks_at("actions-5-verified")
    assert not page.is_visible("#status-note")  # final: nothing left to move

    action = stored_action()
    assert action.status == "verified" and action.closed_at and action.verified_at
    photo = db.session.get(Photo, action.after_photo_id)
    assert (photo.width, photo.height) == (2000, 1500)  # made smaller on the phone
    assert photo.bytes > 200_000  # and still a real photo's weight
    assert photo.caption == "Dry floor" and photo.action_id == action.id
    timeline = [(e.kind, e.to_value, e.actor.email, e.note) for e in action.events]
    manager, regional = organisation.emails["manager"], organisation.emails["regional"]
    assert timeline == [
        ("opened", "open", manager, ""),
        ("status", "in_progress", manager, ""),
        ("photo", str(photo.id), manager, "Dry floor"),
        ("status", "done", manager, "Mopped and dried."),
        ("status", "verified", regional, ""),
    ]


@pytest.mark.phone_locale("es-ES")
def test_my_actions_in_spanish_on_a_small_phone(person, organisation, client):
    audit = submit(client, organisation, answers=failing("floor_clean", "smile", "entrance_clear"))
    late = next(a["id"] for a in audit["actions"] if a["item_id"] == "smile")
    overdue_since(db.session.get(CorrectiveAction, late), timedelta(days=3, hours=1))
    page = person.page
    page.set_viewport_size({"width": 360, "height": 780})
    person.signs_in("manager")
    page.click("nav.topnav >> text=Mis acciones")
    rows = page.locator(".action-row")
    assert rows.count() == 3
    assert "Recibir a cada cliente con una sonrisa" in rows.first.inner_text()
    assert rows.first.locator(".badge.overdue").inner_text() == "Vencida hace 3 días"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360  # nothing sticks out
    person.looks_at("actions-6-list-spanish-360")
    assert person.serious_accessibility_problems() == []
    rows.first.locator("a").click()
    page.wait_for_selector("h2:has-text('Cambiar el estado')")
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    person.looks_at("actions-7-action-spanish-360")
    assert person.serious_accessibility_problems() == []
