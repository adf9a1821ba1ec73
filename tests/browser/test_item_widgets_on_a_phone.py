"""Every item type on a phone: each widget gives its answer, and the camera appears exactly
when the server's table of item types says the entered value fails."""
import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, Photo
from tests.helpers import PHONE_CALL, built_in_checklist, checklist_folder, every_type_walk_in


@pytest.fixture
def live_server(make_app, serve_in_a_thread, tmp_path):
    """The app the phone uses, its walk-in being the checklist with every item type."""
    folder = checklist_folder(tmp_path / "checklists", {**every_type_walk_in(), "timer_seconds": 1},
                              built_in_checklist(PHONE_CALL))
    with serve_in_a_thread(make_app(CHECKLISTS_DIR=str(folder))) as url:
        yield url


def camera_shown(page, item_id):
    return page.is_visible(f"#item-{item_id} .photo")


def test_each_widget_answers_and_the_camera_follows_the_failing_values(person, organisation):
    page = person.page
    person.signs_in()
    person.walks_in()
    page.fill("#seen_first", "  Una cola larga, «demasiado» 🙂  ")

    person.answers("greeted", "no")
    assert camera_shown(page, "greeted")
    person.answers("greeted", "yes")
    assert not camera_shown(page, "greeted")

    page.fill("#queue", "3")  # half marks: not a failure
    page.press("#queue", "Tab")
    assert not camera_shown(page, "queue")
    page.fill("#queue", "5")
    page.press("#queue", "Tab")
    assert camera_shown(page, "queue")

    for value, shown in (("messy", True), ("na", False), ("ok", False)):
        person.answers("shelves", value)
        assert camera_shown(page, "shelves") is shown, value

    person.answers("ignored", "na")
    person.answers("tidiness", "2")
    page.fill("#wait", "100")
    page.set_input_files("#queue-photo", person.camera_photo("queue.jpg"))
    page.wait_for_selector("#item-queue .photo-status:has-text('Photo saved')")
    person.looks_at("every-type-1-checklist")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    page.wait_for_selector("#queue-status", state="hidden", timeout=20000)
    person.looks_at("every-type-2-summary")

    db.session.rollback()  # see what the server committed
    [audit] = db.session.scalars(sa.select(Audit)).all()
    assert {item_id: a["value"] for item_id, a in audit.answers.items()} == {
        "seen_first": "Una cola larga, «demasiado» 🙂", "greeted": True, "ignored": "na",
        "tidiness": 2, "queue": 5, "wait": 100, "shelves": "ok"}
    assert set(audit.failed_items) == {"tidiness", "queue", "wait"}
    summary = page.inner_text("[data-field=failed]")
    assert "Tidiness" in summary and "People in the queue" in summary and "Seconds waited" in summary
    # The photo follows its audit to the server.
    for _ in range(100):
        db.session.rollback()
        if db.session.scalars(sa.select(Photo)).all():
            break
        page.wait_for_timeout(100)
    [photo] = db.session.scalars(sa.select(Photo)).all()
    assert (photo.audit_id, photo.item_id) == (audit.id, "queue")
    assert person.api(f"/api/v1/audits/{audit.id}")["photos_missing"] == []
