"""A manager's home on a phone, in the order of the day, and what waits on the phone said in
words: an audit finished with no signal is shown on home after an offline reload ("1 auditoría
y 1 foto por enviar"), a refused one with its reason and a way to correct it, and "Everything
sent" once the signal comes back."""
from datetime import timedelta

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, CorrectiveAction, Photo
from audit_server.models.types import utcnow
from audit_server.services import accounts
from tests.helpers import PASSWORD, WALK_IN_ANSWERS, failing, set_columns, submit

TWO_SHOPS = "lucia.pena@example.com"
HOME_IN_THE_CACHE = """() => caches.open('momento-pages').then(c => c.keys())
    .then(keys => keys.some(r => new URL(r.url).pathname === '/'))"""
# A phone widens its layout to what the page needs: the page must need no more than the screen.
NO_SIDEWAYS_SCROLL = "width => document.documentElement.scrollWidth <= width"
SMALL_TAP_TARGETS = """() => [...document.querySelectorAll('main a, main button, header a, header button')]
    .filter(el => el.offsetParent !== null)
    .map(el => [el.textContent.trim().slice(0, 40), el.getBoundingClientRect()])
    .filter(([, box]) => box.height < 44 || box.width < 44)
    .map(([text, box]) => `${text}: ${Math.round(box.width)}x${Math.round(box.height)}`)"""


def stored(model):
    db.session.rollback()  # see what the server committed since
    return db.session.scalars(sa.select(model)).all()


@pytest.fixture
def two_shops(app, client, organisation):
    """Lucía Peña manages North One and North Two; the regional manager's audits of North Two
    left her five open actions, one of them overdue by two days."""
    accounts.create_user(TWO_SHOPS, "manager", PASSWORD, [], ["N1", "N2"], name="Lucía Peña 🏪")
    db.session.commit()
    submit(client, organisation, role="regional", location="N2",
           answers=failing("greeted_within_5s", "smile", "staff_available", "floor_clean", "entrance_clear"))
    actions = db.session.scalars(sa.select(CorrectiveAction).order_by(CorrectiveAction.id)).all()
    assert len(actions) == 5 and {a.owner.email for a in actions} == {TWO_SHOPS}
    set_columns(app, actions[-1].id, due_at=utcnow() - timedelta(days=2, hours=1))
    return actions[-1]


def sign_in(page, email, password=PASSWORD):
    page.goto("/login")
    page.fill("#email", email)
    page.fill("#password", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#actions-title")


def section_order(page):
    return page.evaluate("""() => [...document.querySelectorAll('main > section')]
        .filter(s => !s.hidden).map(s => s.id || s.getAttribute('aria-labelledby'))""")


@pytest.mark.phone_locale("es-ES")
@pytest.mark.parametrize("width", [390, 360])
def test_a_manager_of_two_shops_chooses_first_then_sees_the_day_in_order(person, two_shops, width):
    page = person.page
    page.set_viewport_size({"width": width, "height": 800})
    sign_in(page, TWO_SHOPS)
    assert section_order(page) == ["locations", "open-actions"]  # nothing chosen: the choice first
    assert page.inner_text("#locations-title") == "Elige el local que vas a auditar"
    doors = page.locator("#locations .location-door")
    assert doors.count() == 2 and all(doors.nth(i).bounding_box()["height"] >= 56 for i in range(2))
    assert page.locator("#locations .icon").count() == 2  # each row a choice, with its chevron
    assert page.evaluate(NO_SIDEWAYS_SCROLL, width), page.evaluate("document.documentElement.scrollWidth")
    assert page.evaluate(SMALL_TAP_TARGETS) == []
    person.looks_at(f"home-two-shops-choose-es-{width}")

    page.click("#locations .location-door:has-text('North Two')")
    page.wait_for_selector("#chosen-title:has-text('North Two')")
    assert section_order(page) == ["chosen-title", "open-actions", "locations"]
    buttons = page.locator(".big-actions a")
    assert buttons.nth(0).inner_text().startswith("Entra como un cliente")  # the audits first
    assert "Hecha hoy" in buttons.nth(0).inner_text()  # the regional manager's walk-in
    assert "Toca: nunca se ha hecho" in buttons.nth(1).inner_text()
    chosen = page.locator("#locations .location-choice.chosen")
    assert chosen.count() == 1 and "North Two" in chosen.inner_text() and "Elegido" in chosen.inner_text()
    assert chosen.locator("a[aria-current=true]").count() == 1

    actions = page.locator("#open-actions .action-row")
    assert page.inner_text("#actions-title") == "Mis acciones correctivas abiertas (5)"
    assert actions.count() == 3 and "overdue" in actions.first.get_attribute("class")  # overdue first
    assert "Vencida hace 2 días" in actions.first.inner_text()
    assert page.inner_text("#open-actions .overdue-count") == "1 vencida"
    assert page.inner_text("#open-actions .card-footer") == "Ver las 5"
    assert page.evaluate(NO_SIDEWAYS_SCROLL, width), page.evaluate("document.documentElement.scrollWidth")
    assert page.evaluate(SMALL_TAP_TARGETS) == []
    assert person.serious_accessibility_problems() == []
    person.looks_at(f"home-two-shops-es-{width}")
    page.click("text=Ver las 5")
    assert page.locator(".action-row").count() == 5


def walks_in_with_a_photo(person):
    page = person.page
    page.click("a[href^='/audit/walk-in']")
    page.wait_for_selector("#start-walk-in")
    page.click("#start-walk-in")
    page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
    page.fill("#first_noticed", "Barro en la entrada, ¿otra vez? 🌧️")
    for item_id, value in WALK_IN_ANSWERS.items():
        person.answers(item_id, value)
    page.set_input_files("#floor_clean-photo", person.camera_photo())  # a failed item's photo
    saved = page.get_attribute("#audit-form", "data-photo-saved")  # "Photo saved", in the page's language
    page.wait_for_selector(f"#item-floor_clean .photo-status:has-text('{saved}')")
    page.click("#audit-form [type=submit]")
    page.wait_for_selector("#summary[data-state=queued]")


WORDS = {
    "es-ES": {"queued": "1 auditoría y 1 foto por enviar", "title": "Entrada de cinco segundos",
              "waiting": "Pendiente de enviar", "photo": "1 foto",
              "button": "Hecha: pendiente de enviar", "done": "Hecha hoy",
              "sent": "Todo enviado: no queda nada pendiente en este teléfono."},
    "en-GB": {"queued": "1 audit and 1 photo to send", "title": "Five-second walk-in",
              "waiting": "Waiting to send", "photo": "1 photo",
              "button": "Done: waiting to send", "done": "Done today",
              "sent": "Everything sent: nothing waits on this phone."},
}


@pytest.mark.parametrize("locale", [pytest.param(locale, marks=pytest.mark.phone_locale(locale))
                                    for locale in WORDS])
def test_an_offline_audit_is_on_home_after_an_offline_reload_and_its_sending_is_confirmed_once(
        person, organisation, locale):
    page, context, words = person.page, person.page.context, WORDS[locale]
    person.signs_in()
    person.waits_for_the_service_worker()
    person.waits_for_the_audit_pages_in_the_cache()
    person.waits_until(HOME_IN_THE_CACHE)  # home, too, opens with no signal
    context.set_offline(True)
    walks_in_with_a_photo(person)
    page.wait_for_selector(f"#queue-status:has-text('{words['queued']}')")

    page.goto("/")  # no signal: home comes from the phone's cache
    page.wait_for_selector("#on-this-phone:not([hidden])")
    page.reload()  # and again, still with no signal
    waiting = page.wait_for_selector("#on-this-phone:not([hidden]) .phone-audit")
    assert page.inner_text("#on-this-phone-count") == words["queued"]
    assert page.inner_text("#queue-status") == words["queued"]
    text = waiting.inner_text()
    assert words["title"] in text and "North One" in text and words["photo"] in text
    assert words["waiting"] in text
    assert page.is_hidden(".phone-audit-correct")
    walk_in = page.locator("a[href^='/audit/walk-in']")
    # The page (from the cache, and the server has no audit yet) says it is due; the phone knows better.
    assert walk_in.locator(".due-state:visible").inner_text() == words["button"]
    assert page.evaluate(NO_SIDEWAYS_SCROLL, 390)
    if locale == "es-ES":
        person.looks_at("home-offline-queued-es-390")
    assert stored(Audit) == [] and stored(Photo) == []

    context.set_offline(False)  # the signal is back: it goes by itself, and home says so
    page.wait_for_selector(f"#queue-sent:not([hidden]):has-text('{words['sent']}')", timeout=20000)
    assert page.is_hidden("#on-this-phone") and page.is_hidden("#queue-status")
    assert walk_in.locator(".due-state:visible").inner_text() == words["done"]
    if locale == "es-ES":
        person.looks_at("home-offline-sent-es-390")
    [audit] = stored(Audit)
    for _ in range(100):
        if stored(Photo):
            break
        page.wait_for_timeout(100)
    [photo] = stored(Photo)
    assert (photo.audit_id, photo.item_id) == (audit.id, "floor_clean")

    page.reload()  # once: nothing waits, nothing is confirmed again
    page.wait_for_selector("#actions-title")
    page.wait_for_timeout(1000)
    assert page.is_hidden("#queue-sent") and page.is_hidden("#on-this-phone")


def test_a_refused_audit_is_on_home_with_its_reason_and_a_way_to_correct_it(person, organisation):
    page = person.page
    person.signs_in()
    page.route("**/api/v1/audits", lambda route: route.fulfill(
        status=422, content_type="application/json",
        body='{"error": {"code": "validation_error", "message": "Unknown location."}}'))
    page.click("a[href^='/audit/phone']")
    person.answers("answered", "no")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=refused]")
    page.goto("/")
    row = page.wait_for_selector("#on-this-phone:not([hidden]) .phone-audit.refused")
    text = row.inner_text()
    assert "Call your own number" in text and "North One" in text
    assert ("Not accepted by the server: The server did not accept some of its answers or details: "
            "Unknown location.") in text
    assert page.inner_text("#on-this-phone-count") == ""  # nothing waits to be sent: it waits on her
    assert page.is_hidden("#queue-sent")
    assert page.evaluate(SMALL_TAP_TARGETS) == [] and page.evaluate(NO_SIDEWAYS_SCROLL, 390)
    assert person.serious_accessibility_problems() == []
    person.looks_at("home-refused")
    page.unroute("**/api/v1/audits")
    page.click("text=Open it to correct it")
    page.wait_for_selector("#summary[data-state=refused]")  # the audit's page, ready to correct it
    page.click("text=Correct it and send again")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    assert len(stored(Audit)) == 1
    # "Everything sent" is for a queue that empties by itself: she corrected it and saw it sent.
    assert page.is_hidden("#queue-sent")
