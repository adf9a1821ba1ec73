"""A manager's home on a phone (390 px) in Spanish: the two audit buttons say what is due."""
import pytest

from tests.helpers import PHONE_CALL, local_noon, submit


@pytest.mark.phone_locale("es-ES")
def test_the_audit_buttons_say_what_is_due_in_spanish(person, client, organisation):
    submit(client, organisation, location="N1", at=local_noon(10))
    submit(client, organisation, location="N1", at=local_noon(3), checklist=PHONE_CALL)
    page = person.page
    person.signs_in("manager")
    walk_in = page.locator("a[href^='/audit/walk-in']")
    phone = page.locator("a[href^='/audit/phone']")
    assert walk_in.locator(".due-state.overdue").inner_text() == "Atrasada 3 días"
    assert phone.locator(".due-state.done").inner_text().startswith("Hecha el ")
    for button in (walk_in, phone):
        box, state = button.bounding_box(), button.locator(".due-state").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 390  # no sideways scrolling
        assert state["x"] >= box["x"] and state["x"] + state["width"] <= box["x"] + box["width"]
    assert person.serious_accessibility_problems() == []
    person.looks_at("home-due-es-390")
