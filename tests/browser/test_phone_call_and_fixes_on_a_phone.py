"""A phone audit from one phone (the stopwatch keeps true time while the page is hidden,
a mode for calling from another phone, a log of events), and the fixes of issue 14: no
sideways scroll once a photo item fails, previews of the photos taken, the camera button
and a kept note on an action's page."""
import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import CorrectiveAction, Photo
from tests.helpers import WALK_IN_ANSWERS, failing, submit

WIDTHS = (390, 360)


def no_sideways_scroll(page):
    return page.evaluate("document.documentElement.scrollWidth <= innerWidth")


def log_lines(page):
    return page.locator("#stopwatch-log li").all_inner_texts()


def hides_the_page(page, hidden):
    """The page goes under the dialler (or comes back), as the browser says it does."""
    page.evaluate("""hidden => {
        const state = hidden ? 'hidden' : 'visible';
        Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => state });
        Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
        document.dispatchEvent(new Event('visibilitychange'));
    }""", hidden)


def seconds_now(page):
    return page.evaluate("Date.now()") / 1000  # Playwright's clock counts in seconds


def stops_the_clock(page):
    """The phone's clock stands still: only the test moves it on, so every time is exact."""
    page.clock.pause_at(seconds_now(page) + 1)


def opens_the_phone_audit(person, name="Call your own number"):
    page = person.page
    page.click(f"text={name}")
    page.wait_for_selector("#call-link")
    page.wait_for_selector("#item-rings_to_answer", state="hidden")  # the script has run


@pytest.mark.phone_locale("es-ES")
@pytest.mark.parametrize("width", WIDTHS)
def test_the_stopwatch_keeps_true_time_while_the_page_is_hidden(person, organisation, width):
    page = person.page
    page.set_viewport_size({"width": width, "height": 800})
    page.clock.install()
    person.signs_in()
    opens_the_phone_audit(person, "Llama a tu propio número")
    stops_the_clock(page)
    assert "altavoz" in page.inner_text(".call-advice") and "otro teléfono" in page.inner_text(".call-advice")
    # The dialler opens (here: nothing does, and the browser does not try to) and the stopwatch starts.
    page.evaluate("""document.getElementById('call-link').addEventListener('click', e => e.preventDefault())""")
    page.click("#call-link")
    for _ in range(3):
        page.clock.fast_forward(3000)
        page.click("[data-call=ring]")
    page.clock.fast_forward(3000)
    page.click("[data-call=answered]")
    page.clock.fast_forward(28_000)
    page.click("[data-call=hold]")  # on hold at 0:40

    # Under the dialler for twenty seconds: the page runs no timers at all, the clock moves on.
    hides_the_page(page, True)
    stale = page.inner_text("#stopwatch-time")
    page.clock.set_system_time(seconds_now(page) + 20)
    assert page.inner_text("#stopwatch-time") == stale  # no timer ran meanwhile
    hides_the_page(page, False)  # back: the clocks are right at once, before any tick
    assert page.inner_text("#stopwatch-time") == "1:00"
    assert page.inner_text("#stopwatch-hold") == "Tiempo en espera: 0:20"
    page.click("[data-call=hold]")  # a tap right after coming back, stamped at 1:00
    page.clock.fast_forward(5000)
    page.click("[data-call=transfer]")
    page.clock.fast_forward(65_000)
    if width == 390:
        person.looks_at(f"phone-call-mid-call-es-{width}")
    page.click("[data-call=end]")

    assert log_lines(page) == [  # the last four of nine events
        "En espera · 0:40", "Fin de la espera tras 0:20 · 1:00", "Transferida (1) · 1:05", "Fin de la llamada · 2:10"]
    assert page.input_value("#hold_seconds") == "20"
    assert page.input_value("#call_seconds") == "130"
    assert page.input_value("#rings_to_answer") == "3"
    person.looks_at(f"phone-call-ended-es-{width}")
    assert no_sideways_scroll(page)

    page.clock.fast_forward(1000)  # the draft is saved a moment after the last change
    page.reload()  # the log is kept with the draft
    page.wait_for_selector("#stopwatch-log li >> nth=3")
    assert log_lines(page)[-1] == "Fin de la llamada · 2:10"
    assert page.inner_text("#stopwatch-time") == "2:10"


@pytest.mark.parametrize("width", WIDTHS)
def test_calling_from_another_phone_skips_the_dialler_in_english(person, organisation, width):
    page = person.page
    page.set_viewport_size({"width": width, "height": 800})
    page.clock.install()
    person.signs_in()
    opens_the_phone_audit(person)
    stops_the_clock(page)
    assert not page.is_visible("#other-phone-help")
    page.check("#other-phone")
    assert not page.is_visible("#call-link")  # no dialler on this phone
    assert page.inner_text("#other-phone-help").startswith("Dial +34 900 000 001 on the other phone")
    page.click("[data-call=start]")
    assert log_lines(page) == ["Call placed · 0:00"]
    page.clock.fast_forward(5000)
    page.click("[data-call=answered]")  # at once: no ring counted
    page.clock.fast_forward(7000)
    assert log_lines(page)[-1] == "Answered after 0 rings · 0:05"
    page.click("[data-call=end]")
    assert log_lines(page)[-1] == "End of the call · 0:12"
    person.looks_at(f"phone-call-other-phone-en-{width}")
    assert no_sideways_scroll(page)
    page.clock.resume()  # axe-core waits on timers of its own
    assert person.serious_accessibility_problems() == []

    page.reload()  # the choice is kept with the draft
    page.wait_for_selector("#stopwatch-log li >> nth=2")
    assert page.is_checked("#other-phone") and not page.is_visible("#call-link")


@pytest.mark.phone_locale("es-ES")
def test_one_ring_is_said_in_the_singular_and_an_unanswered_call_says_so(person, organisation):
    page = person.page
    page.clock.install()
    person.signs_in("regional")  # of North One and North Two
    page.goto(f"/audit/phone?location={organisation.locations['N1']}")
    page.wait_for_selector("#item-rings_to_answer", state="hidden")
    stops_the_clock(page)
    page.check("#other-phone")
    page.click("[data-call=start]")
    page.clock.fast_forward(2000)
    page.click("[data-call=ring]")
    page.clock.fast_forward(10_000)
    page.click("[data-call=answered]")
    assert log_lines(page)[-2:] == ["Tono 1 · 0:02", "Contestaron tras 1 tono · 0:12"]

    page.goto(f"/audit/phone?location={organisation.locations['N2']}")  # another location, another draft: nobody answers there
    page.wait_for_selector("#item-rings_to_answer", state="hidden")
    assert not page.is_checked("#other-phone")  # the choice is the draft's
    stops_the_clock(page)
    page.click("[data-call=start]")
    page.clock.fast_forward(30_000)
    page.click("[data-call=end]")
    assert log_lines(page)[-1] == "Fin de la llamada: nadie contestó · 0:30"
    assert page.is_checked("#answered-no")


def stored_action():
    db.session.rollback()  # see what the server committed since
    return db.session.scalars(sa.select(CorrectiveAction)).one()


IN_SPANISH_AND_ENGLISH = pytest.mark.parametrize("locale", [
    pytest.param("es", marks=pytest.mark.phone_locale("es-ES")), "en"])


@IN_SPANISH_AND_ENGLISH
@pytest.mark.parametrize("width", WIDTHS)
def test_a_failed_photo_item_shows_its_photo_and_the_page_does_not_scroll_sideways(
        person, organisation, locale, width):
    page = person.page
    page.set_viewport_size({"width": width, "height": 800})
    person.signs_in()
    page.goto(f"/audit/walk-in?location={organisation.locations['N1']}")
    page.click("#start-walk-in")
    page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
    for item_id, value in WALK_IN_ANSWERS.items():  # the floor and the entrance fail: two cameras
        person.answers(item_id, value)
    assert page.is_visible("#item-floor_clean .photo") and page.is_visible("#item-entrance_clear .photo")
    assert no_sideways_scroll(page)
    page.set_input_files("#floor_clean-photo", person.camera_photo())
    preview = page.wait_for_selector("#item-floor_clean .photo-preview")
    person.waits_until("() => document.querySelector('#item-floor_clean .photo-preview')?.naturalWidth > 0")
    assert preview.get_attribute("src").startswith("blob:")
    assert page.query_selector("#item-entrance_clear .photo-preview") is None
    box = preview.bounding_box()
    assert box["width"] < width / 2 and box["height"] > 40  # a thumbnail, not the photo
    assert no_sideways_scroll(page)
    # Each question starts below its item's separator, not across it.
    legend, separator = page.evaluate("""() => {
        const item = document.getElementById('item-smile');
        return [item.querySelector('legend').getBoundingClientRect().top, item.getBoundingClientRect().top];
    }""")
    assert legend > separator + 8
    person.looks_at(f"walk-in-failed-photo-{locale}-{width}")
    first = preview.get_attribute("src")
    page.set_input_files("#floor_clean-photo", person.camera_photo("again.jpg"))  # taken again
    person.waits_until("""first => {
        const img = document.querySelector('#item-floor_clean .photo-preview');
        return img.src !== first && img.naturalWidth > 0;
    }""", arg=first)
    # The first photo's object URL is let go: it no longer loads.
    assert page.evaluate("url => fetch(url).then(() => 'loads', () => 'revoked')", first) == "revoked"
    page.reload()  # the photo is on the phone: its preview comes back with the draft
    page.wait_for_selector("#item-floor_clean .photo-preview", state="attached")
    assert no_sideways_scroll(page)


@IN_SPANISH_AND_ENGLISH
@pytest.mark.parametrize("width", WIDTHS)
def test_the_after_photo_has_the_camera_button_a_preview_and_keeps_the_typed_note(
        person, organisation, client, locale, width):
    submit(client, organisation, answers=failing("floor_clean"))
    action_id = stored_action().id
    page = person.page
    page.set_viewport_size({"width": width, "height": 800})
    person.signs_in()
    page.goto(f"/actions/{action_id}")
    assert page.is_visible("label[for=after-photo].button.camera")  # the camera button, not the raw input
    assert page.evaluate("document.getElementById('after-photo').getBoundingClientRect().width") <= 1
    note = "Fregado y secado 🧽 — ¡listo!"
    page.fill("#status-note", note)
    page.set_input_files("#after-photo", person.camera_photo("after.jpg"))
    person.waits_until("() => document.querySelector('form[data-after-photo] .photo-preview')?.naturalWidth > 0")
    assert page.inner_text("form[data-after-photo] .photo-status") == (
        "Foto lista: revísala y envíala." if locale == "es" else "Photo ready: check it, then send it.")
    assert no_sideways_scroll(page)
    person.looks_at(f"action-photo-preview-{locale}-{width}")
    page.click("form[data-after-photo] button[type=submit]")
    page.wait_for_selector(".after-photo img")
    assert page.input_value("#status-note") == note  # what was typed for the move is still there
    assert no_sideways_scroll(page)
    person.looks_at(f"action-photo-sent-{locale}-{width}")
    page.click("button[name=status][value=done]")
    page.wait_for_selector(".notice")
    action = stored_action()
    assert action.status == "done" and action.events[-1].note == note
    photo = db.session.get(Photo, action.after_photo_id)
    assert (photo.width, photo.height) == (2000, 1500)  # made smaller on the phone
    page.reload()
    assert page.input_value("#status-note") == ""  # sent with its move: not brought back again
