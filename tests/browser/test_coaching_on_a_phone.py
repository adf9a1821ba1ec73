"""Coaching on a phone: a failed item says what good looks like, and the action it opens is
titled with the fix as a task and says it again; in Spanish and in English, at 390 and 360 px."""
import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, CorrectiveAction
from tests.browser.conftest import SCREENSHOTS
from tests.helpers import PHONE_CALL, WALK_IN, built_in_checklist

GREETED = "greeted_within_5s"


def item_of(checklist_id, item_id):
    return next(item for section in built_in_checklist(checklist_id)["sections"]
                for item in section["items"] if item["id"] == item_id)


def described_by(page, control):
    return (page.get_attribute(control, "aria-describedby") or "").split()


def sticking_out(page, width):
    """The page at `width` px: what sticks out sideways (nothing, when it does not scroll)."""
    page.set_viewport_size({"width": width, "height": 800})
    return page.evaluate("""width => document.documentElement.scrollWidth <= width ? [] :
        [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width)
        .map((el) => `${el.tagName}#${el.id}.${el.className} ${Math.round(el.getBoundingClientRect().right)}`)""", width)


@pytest.mark.parametrize("lang", [pytest.param("es", marks=pytest.mark.phone_locale("es-ES")),
                                  pytest.param("en", marks=pytest.mark.phone_locale("en-GB"))])
def test_a_failed_item_coaches_and_its_action_is_the_task(person, organisation, lang):
    page = person.page
    greeted = item_of(WALK_IN, GREETED)
    guidance, task = greeted["guidance"][lang], greeted["action_title"][lang]
    person.signs_in()
    page.goto(f"/audit/walk-in?location={organisation.locations['N1']}")
    page.click("#start-walk-in")
    page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
    shown = f"#guidance-{GREETED}"
    assert not page.is_visible(shown)

    person.answers(GREETED, "no")
    page.wait_for_selector(shown, state="visible")
    assert page.inner_text(shown) == guidance
    title = page.evaluate("el => getComputedStyle(el, '::before').content", page.query_selector(shown))
    assert title == ('"Así debería ser"' if lang == "es" else '"What good looks like"')
    assert f"guidance-{GREETED}" in described_by(page, f"#{GREETED}-no")
    person.answers(GREETED, "yes")  # answered well: the coaching goes away
    page.wait_for_selector(shown, state="hidden")
    assert f"guidance-{GREETED}" not in described_by(page, f"#{GREETED}-no")
    person.answers(GREETED, "no")
    page.wait_for_selector(shown, state="visible")

    page.fill("#first_noticed", "Nadie levantó la vista del móvil 📱; olía a café")
    for item_id, value in {"smile": "yes", "staff_available": "no", "floor_clean": "yes",
                           "entrance_clear": "yes", "lighting_signage": "yes", "queue_managed": "na",
                           "smell_noise": "yes", "overall_impression": "4"}.items():
        person.answers(item_id, value)
    assert page.is_visible("#guidance-staff_available") and not page.is_visible("#guidance-smile")
    assert page.locator(".guidance:visible").count() == 2
    assert person.serious_accessibility_problems() == []
    for width in (390, 360):
        wide = sticking_out(page, width)
        page.locator(shown).scroll_into_view_if_needed()
        person.looks_at(f"coaching-1-failed-item-{lang}-{width}")
        page.screenshot(path=str(SCREENSHOTS / f"coaching-1-failed-item-{lang}-{width}-view.png"))
        assert wide == []

    page.click("#audit-form button[type=submit]")
    page.wait_for_selector("#summary[data-state=sent]")
    db.session.rollback()  # see what the server committed
    [audit] = db.session.scalars(sa.select(Audit)).all()
    action = db.session.scalar(sa.select(CorrectiveAction).where(
        CorrectiveAction.audit_id == audit.id, CorrectiveAction.item_id == GREETED))
    assert action.title == greeted["action_title"] and action.title != greeted["label"]

    page.goto(f"/actions/{action.id}")
    assert page.inner_text("h1").startswith(task)
    assert page.title().startswith(task)
    card = page.locator("section.guidance-card")
    assert card.locator("h2").inner_text() == ("Así debería ser" if lang == "es" else "What good looks like")
    assert card.locator("p").inner_text() == guidance
    assert person.serious_accessibility_problems() == []
    for width in (390, 360):
        assert sticking_out(page, width) == []
        person.looks_at(f"coaching-2-action-{lang}-{width}")


@pytest.mark.phone_locale("es-ES")
def test_a_number_out_of_its_good_range_coaches_on_the_phone_audit(person, organisation):
    page = person.page
    hold = item_of(PHONE_CALL, "hold_seconds")
    person.signs_in()
    page.goto(f"/audit/phone?location={organisation.locations['N1']}")
    person.answers("answered", "yes")
    page.wait_for_selector("#item-hold_seconds", state="visible")
    shown = "#guidance-hold_seconds"
    page.fill("#hold_seconds", "45")  # half the points: not a failure
    page.press("#hold_seconds", "Tab")
    assert not page.is_visible(shown)
    page.fill("#hold_seconds", "120")
    page.press("#hold_seconds", "Tab")
    page.wait_for_selector(shown, state="visible")
    assert page.inner_text(shown) == hold["guidance"]["es"]
    assert "guidance-hold_seconds" in described_by(page, "#hold_seconds")
    assert sticking_out(page, 360) == []
    page.locator(shown).scroll_into_view_if_needed()
    person.looks_at("coaching-3-phone-hold-es-360")
    page.fill("#hold_seconds", "20")
    page.press("#hold_seconds", "Tab")
    page.wait_for_selector(shown, state="hidden")
    assert described_by(page, "#hold_seconds") == []
