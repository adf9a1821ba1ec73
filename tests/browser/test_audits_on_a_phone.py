"""A manager does both audits on a phone, online and offline; two managers share one phone."""
import time

import boto3
import botocore.config
import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, Photo
from audit_server.storage import S3PhotoStore
from tests.helpers import WALK_IN_ANSWERS, audit_body


def stored_audits():
    db.session.rollback()  # see what the server committed since
    return db.session.scalars(sa.select(Audit)).all()


def stored_photos():
    db.session.rollback()
    return db.session.scalars(sa.select(Photo)).all()


def test_walk_in_audit_from_home_to_summary(person, organisation):
    page = person.page
    person.signs_in()
    person.looks_at("home")
    started = time.monotonic()
    person.walks_in()
    assert time.monotonic() - started >= 4.5  # the five seconds of just looking
    page.fill("#first_noticed", "A pallet by the door")
    for item_id, value in WALK_IN_ANSWERS.items():
        person.answers(item_id, value)
    assert page.is_visible("#item-floor_clean .photo") and not page.is_visible("#item-smile .photo")
    page.set_input_files("#floor_clean-photo", person.camera_photo())
    page.wait_for_selector("#item-floor_clean .photo-status:has-text('Photo saved')")
    person.looks_at("walk-in-3-checklist")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    person.looks_at("walk-in-4-summary")

    summary = page.inner_text("#summary")
    assert "Is the floor clean?" in summary and "Is the entrance clear?" in summary
    missing = page.inner_text("[data-field=photos-missing]")
    assert "Is the entrance clear?" in missing and "floor" not in missing
    [audit] = stored_audits()
    assert page.inner_text("[data-field=percent]") == f"{round(audit.score_percent)} %"
    assert audit.answers["first_noticed"]["value"] == "A pallet by the door"
    assert set(audit.failed_items) == {"floor_clean", "entrance_clear"}
    # The photo goes to the server, downscaled on the phone, as evidence of floor_clean.
    for _ in range(100):
        if stored_photos():
            break
        page.wait_for_timeout(100)
    page.wait_for_selector("#queue-status", state="hidden")
    [photo] = stored_photos()
    assert (photo.audit_id, photo.item_id) == (audit.id, "floor_clean")
    assert (photo.width, photo.height) == (2000, 1500)  # the camera's 4000 x 3000, halved
    assert photo.bytes > 200_000  # still a real photo's weight: many 64 KB reads of the body
    audit_json = person.api(f"/api/v1/audits/{audit.id}")
    assert audit_json["photos_missing"] == ["entrance_clear"]


def test_an_audit_the_server_refuses_stays_on_the_phone_with_the_reason(person, organisation):
    page = person.page
    person.signs_in()
    page.click("text=Call your own number")
    page.route("**/api/v1/audits", lambda route: route.fulfill(
        status=422, content_type="application/json",
        body='{"error": {"code": "validation_error", "message": "Unknown location."}}'))
    person.answers("answered", "no")
    page.click("text=Send the audit")
    why = "The server did not accept some of its answers or details: Unknown location."
    page.wait_for_selector(f"#summary[data-state=refused]:has-text('{why}')")
    page.wait_for_selector(f"#queue-status:has-text('1 audit not accepted by the server (kept on this phone): {why}')")
    person.looks_at("refused")
    page.unroute("**/api/v1/audits")
    page.click("footer button[lang=es]")  # the person reads Spanish: the reason too, the server's detail after it
    page.wait_for_selector("#summary[data-state=refused]:has-text("
                           "'El servidor no aceptó algunas respuestas o datos: Unknown location.')")
    person.looks_at("refused-spanish")
    page.click("footer button[lang=en]")
    page.wait_for_selector(f"#queue-status:has-text('{why}')")
    kept = page.evaluate("""async () => {
        const db = await new Promise(r => { const q = indexedDB.open('momento-user-' + document.querySelector('meta[name=momento-user]').content); q.onsuccess = () => r(q.result); });
        return await new Promise(r => { const q = db.transaction('outbox').objectStore('outbox').getAll(); q.onsuccess = () => r(q.result); });
    }""")
    assert len(kept) == 1 and kept[0]["body"]["answers"] == {"answered": {"value": False}}
    assert stored_audits() == []

    page.click("text=Correct it and send again")  # the reason is known: fix it, send it again
    page.wait_for_selector("#audit-form:not([hidden])")
    assert page.is_checked("#answered-no")
    page.fill("#call_seconds", "12")
    page.route("**/api/v1/audits", lambda route: route.fulfill(  # a proxy's answer, not ours
        status=413, content_type="text/html", body="<h1>413 Request Entity Too Large</h1>"))
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=refused]:has-text('It is too large for the server.')")
    assert "HTTP" not in page.inner_text("#summary") + page.inner_text("#queue-status")
    page.unroute("**/api/v1/audits")
    page.click("text=Correct it and send again")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")
    page.wait_for_selector("#queue-status", state="hidden")
    [audit] = stored_audits()
    assert str(audit.id) != kept[0]["body"]["id"]
    assert {item_id: a["value"] for item_id, a in audit.answers.items()} == {"answered": False, "call_seconds": 12}


PHOTOS_ON_THE_PHONE = """async () => {
    const user = document.querySelector('meta[name=momento-user]').content;
    const db = await new Promise(r => { const q = indexedDB.open('momento-user-' + user); q.onsuccess = () => r(q.result); });
    const all = await new Promise(r => { const q = db.transaction('photos').objectStore('photos').getAll(); q.onsuccess = () => r(q.result); });
    db.close();
    return all.map(photo => ({id: photo.id, itemId: photo.itemId, refused: photo.refused ?? null,
                              takenAt: photo.takenAt}));
}"""
# One more pass of the outbox, awaited (after any it was already making): what is due is sent.
OUTBOX_FLUSHED = "() => import('/static/js/outbox.js').then(outbox => outbox.flush())"


class PhotoAnswers:
    """Answers the phone's photo uploads with `statuses` in turn (a body of our error
    kind; 503 with Retry-After: 1), then lets them through to the server; counts them."""

    def __init__(self, page, *statuses):
        self.statuses, self.calls = list(statuses), 0
        page.route("**/api/v1/audits/*/photos", self.answer)

    def answer(self, route):
        self.calls += 1
        if not self.statuses:
            return route.continue_()
        status = self.statuses.pop(0)
        route.fulfill(status=status, content_type="application/json",
                      headers={"Retry-After": "1"} if status == 503 else {},
                      body=f'{{"error": {{"code": "x", "message": "HTTP {status}", "fields": {{"photo": ["No."]}}}}}}')


def walk_in_with_a_photo_of_the_floor(person):
    page = person.page
    person.signs_in()
    person.walks_in()
    page.fill("#first_noticed", "Mud by the door")
    for item_id, value in WALK_IN_ANSWERS.items():
        person.answers(item_id, value)
    page.set_input_files("#floor_clean-photo", person.camera_photo())
    page.wait_for_selector("#item-floor_clean .photo-status:has-text('Photo saved')")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=sent]")


def test_a_busy_server_is_tried_again_and_a_refused_photo_is_taken_again(person, organisation):
    page = person.page
    page.clock.install()  # the phone's clock runs as usual, until the test moves it on
    answers = PhotoAnswers(page, 503, 413, 413)
    walk_in_with_a_photo_of_the_floor(person)
    refused = page.wait_for_selector("#refused-photos:not([hidden])", timeout=20000)
    text = refused.inner_text()
    assert "Photo for: Is the floor clean? · Five-second walk-in · North One" in text
    assert "It is too large for the server." in text
    assert answers.calls == 2  # the 503 was tried again, after its Retry-After
    assert "Is the floor clean?" in page.inner_text("[data-field=photos-missing]")
    person.looks_at("photo-refused")
    assert person.serious_accessibility_problems() == []
    page.eval_on_selector(".refused-photo", "row => { row.dataset.seen = 'yes'; }")
    page.clock.fast_forward("10:00")  # longer than the outbox ever waits between tries
    page.evaluate(OUTBOX_FLUSHED)
    assert answers.calls == 2  # a refusal for good is not tried again
    assert page.is_visible(".refused-photo[data-seen]")  # and its row is left as it was
    [kept] = page.evaluate(PHOTOS_ON_THE_PHONE)
    assert kept["refused"]["status"] == 413 and stored_photos() == []

    page.set_input_files("#refused-photos input[type=file]", person.camera_photo("again.jpg"))
    page.wait_for_selector(f"#refused-photos input[id='retake-{kept['id']}']", state="detached")
    page.wait_for_selector("#refused-photos:not([hidden])")  # the new photo was refused as well
    [retaken] = page.evaluate(PHOTOS_ON_THE_PHONE)
    assert retaken["id"] != kept["id"] and answers.calls == 3
    # A new photo: taken when it was taken again, ten minutes (of the phone's clock) later.
    assert page.evaluate("([a, b]) => Date.parse(b) - Date.parse(a)",
                         [kept["takenAt"], retaken["takenAt"]]) >= 10 * 60 * 1000
    page.set_input_files("#refused-photos input[type=file]", person.camera_photo("third.jpg"))
    page.wait_for_selector("#refused-photos", state="hidden", timeout=20000)
    [photo] = stored_photos()
    assert photo.item_id == "floor_clean" and str(photo.id) not in (kept["id"], retaken["id"])
    assert page.evaluate(PHOTOS_ON_THE_PHONE) == []


def test_a_photo_refused_for_its_id_is_shown_in_spanish_and_let_go_on_purpose(person, organisation):
    page = person.page
    answers = PhotoAnswers(page, 409)
    walk_in_with_a_photo_of_the_floor(person)
    page.wait_for_selector("#refused-photos:has-text('Another photo was already sent under the same id.')")
    page.click("footer button[lang=es]")  # the person reads Spanish
    refused = page.wait_for_selector("#refused-photos:has-text('Ya se envió otra foto con el mismo identificador.')")
    assert "Foto de: ¿El suelo está limpio?" in refused.inner_text()
    person.looks_at("photo-refused-spanish")
    assert len(page.evaluate(PHOTOS_ON_THE_PHONE)) == 1  # never dropped without a word
    page.click("#refused-photos >> text=Descartarla")
    warning = page.wait_for_selector("#let-go-warning[open]")  # evidence is not deleted in one tap
    assert "¿Descartar esta foto?" in warning.inner_text()
    assert "Foto de: ¿El suelo está limpio?" in warning.inner_text()
    person.looks_at("photo-let-go-warning")
    assert person.serious_accessibility_problems() == []
    page.click("#let-go-warning >> text=Conservarla")
    assert page.is_hidden("#let-go-warning") and len(page.evaluate(PHOTOS_ON_THE_PHONE)) == 1
    page.click("#refused-photos >> text=Descartarla")
    page.click("#let-go-warning >> text=Descartarla")
    page.wait_for_selector("#refused-photos", state="hidden")
    assert page.evaluate(PHOTOS_ON_THE_PHONE) == [] and stored_photos() == []
    assert answers.calls == 1


def test_a_photo_refused_before_reasons_were_kept_shows_the_servers_message(person, organisation):
    page = person.page
    person.signs_in()
    page.evaluate("""async () => {
        const user = document.querySelector('meta[name=momento-user]').content;
        const db = await new Promise(r => {  // as store.js opens it, whichever of the two comes first
            const q = indexedDB.open('momento-user-' + user, 1);
            q.onupgradeneeded = () => ['drafts', 'outbox', 'photos'].forEach(s => q.result.createObjectStore(s));
            q.onsuccess = () => r(q.result);
        });
        const blob = await new Promise(r => Object.assign(document.createElement('canvas'), {width: 8, height: 8}).toBlob(r, 'image/jpeg'));
        const id = crypto.randomUUID();
        const t = db.transaction('photos', 'readwrite');
        t.objectStore('photos').put({id, auditId: crypto.randomUUID(), itemId: 'floor_clean', blob, ready: true,
            refused: 'The photo is larger than the server takes.', itemLabel: {en: 'Is the floor clean?'}}, id);
        await new Promise(r => { t.oncomplete = r; });
        db.close();
    }""")
    page.reload()
    refused = page.wait_for_selector("#refused-photos:not([hidden])")
    assert "The photo is larger than the server takes." in refused.inner_text()
    assert "?)" not in refused.inner_text()


@pytest.mark.phone_locale("es-ES")
def test_phone_audit_with_the_stopwatch_in_spanish(person, organisation):
    page = person.page
    page.clock.install()  # the stopwatch's clock: the test moves it on instead of waiting
    person.signs_in()
    page.click("text=Llama a tu propio número")
    page.wait_for_selector("#call-link")
    assert page.get_attribute("#call-link", "href") == "tel:+34900000001"
    page.wait_for_selector("#item-rings_to_answer", state="hidden")  # until the call is answered (once the script runs)
    person.looks_at("phone-1-start")
    page.click("[data-call=start]")
    for _ in range(3):
        page.click("[data-call=ring]")
    page.click("[data-call=answered]")
    page.click("[data-call=hold]")
    assert page.get_attribute("[data-call=hold]", "aria-pressed") == "true"
    page.clock.fast_forward(40_000)  # forty seconds on hold
    page.click("[data-call=hold]")
    page.click("[data-call=transfer]")
    page.click("[data-call=end]")
    person.looks_at("phone-2-after-call")
    assert page.input_value("#rings_to_answer") == "3"
    assert page.input_value("#transfers") == "1"
    assert int(page.input_value("#hold_seconds")) >= 40
    assert int(page.input_value("#call_seconds")) >= 40
    assert page.is_checked("#answered-yes")

    person.answers("answered", "no")
    assert not page.is_visible("#item-owned")
    person.answers("answered", "yes")
    assert page.is_visible("#item-owned")
    page.fill("#rings_to_answer", "-2")
    page.click("text=Enviar la auditoría")  # too early: unanswered items, a negative count
    error = page.inner_text("#form-error")
    assert "Responde o corrige" in error and "¿Cuántos tonos" in error and "Cortesía" in error
    assert stored_audits() == []
    page.fill("#rings_to_answer", "3")
    page.fill("#hold_seconds", "45")  # the person corrects what the stopwatch measured
    for item_id, value in {"menu_easy": "na", "greeting_business_name": "yes", "greeting_own_name": "no",
                           "courtesy": "4", "reached_person": "yes", "warm_transfer": "yes",
                           "not_my_department": "yes", "owned": "yes", "follow_up_promised": "no",
                           "useful": "4"}.items():
        person.answers(item_id, value)
    page.fill("#first_impression", "Amable pero lento")
    page.click("text=Enviar la auditoría")
    page.wait_for_selector("#summary[data-state=sent]")
    person.looks_at("phone-3-summary")
    assert "Fallo crítico" in page.inner_text("#summary")
    assert "«eso no es de mi departamento»" in page.inner_text("[data-field=failed]")
    [audit] = stored_audits()
    values = {item_id: a["value"] for item_id, a in audit.answers.items()}
    assert values["rings_to_answer"] == 3 and values["transfers"] == 1 and values["hold_seconds"] == 45
    assert audit.critical_failed and audit.checklist_id == "call_your_own_number"


# Whether the phone's draft of the audit holds `value` for the item `item_id`.
DRAFT_SAVED = """async ([itemId, value]) => {
    const user = document.querySelector('meta[name=momento-user]').content;
    const db = await new Promise(r => { const q = indexedDB.open('momento-user-' + user); q.onsuccess = () => r(q.result); });
    const drafts = await new Promise(r => { const q = db.transaction('drafts').objectStore('drafts').getAll(); q.onsuccess = () => r(q.result); });
    db.close();
    return drafts.some(draft => draft.raw?.[itemId] === value);
}"""


def test_offline_audit_survives_a_reload_and_is_sent_once(person, organisation):
    page, context = person.page, person.page.context
    person.signs_in()
    person.waits_for_the_service_worker()
    person.waits_for_the_audit_pages_in_the_cache()
    context.set_offline(True)  # no signal at the door: the audit starts from the phone's cache
    person.walks_in()
    page.fill("#first_noticed", "Dark entrance")
    person.answers("greeted_within_5s", "yes")
    person.answers("smile", "no")
    person.waits_until(DRAFT_SAVED, ["smile", "no"])  # the draft is saved as the answers are given
    page.reload()  # no signal: the service worker serves the page, the draft comes back
    page.wait_for_selector("#audit-form:not([hidden])")
    assert page.input_value("#first_noticed") == "Dark entrance"
    assert page.is_checked("#smile-no") and page.is_checked("#greeted_within_5s-yes")
    for item_id, value in WALK_IN_ANSWERS.items():
        if item_id not in ("greeted_within_5s", "smile"):
            person.answers(item_id, value)
    page.set_input_files("#floor_clean-photo", person.camera_photo())  # no signal for the photo either
    page.wait_for_selector("#item-floor_clean .photo-status:has-text('Photo saved')")
    page.click("text=Send the audit")
    page.wait_for_selector("#summary[data-state=queued]")
    page.wait_for_selector("#queue-status:has-text('1 audit and 1 photo to send')")  # the audit and its photo
    person.looks_at("offline-1-queued")

    page.reload()
    page.wait_for_selector("#queue-status:has-text('1 audit and 1 photo to send')")
    person.looks_at("offline-2-reloaded")
    assert stored_audits() == [] and stored_photos() == []

    context.set_offline(False)
    page.wait_for_selector("#queue-status", state="hidden", timeout=20000)
    [audit] = stored_audits()
    assert {item_id: a["value"] for item_id, a in audit.answers.items()}["smile"] is False
    [photo] = stored_photos()
    assert (photo.audit_id, photo.item_id) == (audit.id, "floor_clean")


@pytest.mark.parametrize("where", ["login", "home", "walk-in", "walk-in checklist", "phone", "sign-out warning"])
def test_no_serious_accessibility_problems(person, organisation, where):
    page = person.page
    if where == "login":
        page.goto("/login")
    else:
        person.signs_in()
    if where.startswith("walk-in"):
        page.click("text=Walk in as a customer")
        page.wait_for_selector("#start-walk-in")
        if where == "walk-in checklist":
            page.click("#start-walk-in")
            page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)
            person.answers("floor_clean", "no")
    if where == "phone":
        page.click("text=Call your own number")
        page.wait_for_selector("#call-link")
    if where == "sign-out warning":
        page.route("**/api/v1/audits", lambda route: route.abort("internetdisconnected"))
        page.click("text=Call your own number")
        person.answers("answered", "no")
        page.click("text=Send the audit")
        page.wait_for_selector("#queue-status:has-text('1 audit to send')")
        page.click("text=Sign out")
        page.wait_for_selector("#sign-out-warning[open]")
    if where == "login":
        person.looks_at("login")
    assert person.serious_accessibility_problems() == []


def test_a_regional_manager_chooses_a_location_by_its_door_url(person, organisation):
    page = person.page
    page.goto("/l/N2")
    page.fill("#email", organisation.emails["regional"])
    page.fill("#password", organisation.PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#chosen-title:has-text('North Two')")
    person.looks_at("home-regional")
    assert page.is_visible("text=North One")  # the other location, one tap away
    response = page.goto("/l/S1")
    assert response.status == 404
    person.looks_at("not-found")


# One phone, two managers: what one leaves on it is neither seen nor sent by the other.
QUEUED_ON_THE_PHONE = """async user => {
    const db = await new Promise(r => { const q = indexedDB.open('momento-user-' + user); q.onsuccess = () => r(q.result); });
    const all = await new Promise(r => { const q = db.transaction('outbox').objectStore('outbox').getAll(); q.onsuccess = () => r(q.result); });
    db.close();
    return all.map(entry => entry.body.id);
}"""


def audits_once_sent(page):
    """The stored audits, once the phone has sent what it had (within 10 s), and has made
    one more pass of its outbox (which would send it again, were it still queued)."""
    for _ in range(50):
        if stored_audits():
            page.evaluate(OUTBOX_FLUSHED)
            return stored_audits()
        page.wait_for_timeout(200)
    return []


def signs_in_as(person, role):
    person.page.goto("/login")
    person.page.fill("#email", person.organisation.emails[role])
    person.page.fill("#password", person.organisation.PASSWORD)
    person.page.click("button[type=submit]")
    person.page.wait_for_selector(".big-actions")


def test_a_second_person_on_the_same_phone_never_sees_or_sends_the_first_ones_audit(person, organisation):
    page, context = person.page, person.page.context
    page.goto("/login")
    person.waits_for_the_service_worker()  # installed before anyone signs in
    signs_in_as(person, "manager")
    person.waits_for_the_service_worker()
    person.waits_for_the_audit_pages_in_the_cache()
    context.set_offline(True)
    person.walks_in()
    for item_id, value in WALK_IN_ANSWERS.items():
        person.answers(item_id, value)
    page.fill("#first_noticed", "Manager of North One")
    page.click("text=Send the audit")
    page.wait_for_selector("#queue-status:has-text('1 audit to send')")
    queued = page.evaluate(QUEUED_ON_THE_PHONE, organisation.ids["manager"])

    # The signal comes back too weak for the audit to get through, and she signs out.
    page.route("**/api/v1/audits", lambda route: route.abort("internetdisconnected"))
    context.set_offline(False)
    page.goto("/")
    page.click("text=Sign out")
    warning = page.wait_for_selector("#sign-out-warning[open]")
    assert "1 audit is still waiting to be sent from this phone." in warning.inner_text()
    person.looks_at("sign-out-warning")
    page.click("text=Stay signed in")
    assert page.is_hidden("#sign-out-warning") and page.is_visible(".big-actions")
    page.click("text=Sign out")
    page.click("text=Sign out anyway")
    page.wait_for_selector("#login-title")
    page.unroute("**/api/v1/audits")

    # The manager of South One signs in on the same phone, with a good signal.
    signs_in_as(person, "manager_s")
    page.evaluate(OUTBOX_FLUSHED)  # her phone's outbox has made a pass: it has nothing of his to send
    assert stored_audits() == []
    assert page.is_hidden("#queue-status")
    assert "South One" in page.inner_text("main") and "North One" not in page.content()
    assert page.evaluate(QUEUED_ON_THE_PHONE, organisation.ids["manager"]) == queued
    person.waits_for_the_service_worker()
    context.set_offline(True)  # her own home, from the phone's cache, is hers alone
    page.reload()
    assert "South One" in page.inner_text("main") and "North One" not in page.content()
    cached = page.evaluate("() => caches.open('momento-pages').then(c => c.keys()).then(k => k.map(r => r.url))")
    assert cached and not any(f"location={organisation.locations['N1']}" in url for url in cached)
    context.set_offline(False)
    page.goto("/")
    page.click("text=Sign out")  # nothing of hers waits: no warning
    page.wait_for_selector("#login-title")

    # He signs in again: his audit goes, once, as his.
    signs_in_as(person, "manager")
    [audit] = audits_once_sent(page)
    assert str(audit.id) == queued[0] and audit.auditor_id == organisation.ids["manager"]
    assert audit.location_id == organisation.locations["N1"]
    assert page.evaluate(QUEUED_ON_THE_PHONE, organisation.ids["manager"]) == []


def test_what_an_earlier_version_left_on_the_phone_goes_to_the_first_person_who_signs_in(person, organisation):
    page = person.page
    page.goto("/login")
    body = audit_body(organisation.locations["N1"])
    page.evaluate("""body => new Promise(resolve => {
        const q = indexedDB.open('momento', 1);
        q.onupgradeneeded = () => ['drafts', 'outbox', 'photos'].forEach(s => q.result.createObjectStore(s));
        q.onsuccess = () => {
            const t = q.result.transaction('outbox', 'readwrite');
            t.objectStore('outbox').put({url: '/api/v1/audits', body, attempts: 0, queuedAt: Date.now()}, body.id);
            t.oncomplete = () => { q.result.close(); resolve(); };
        };
    })""", body)
    signs_in_as(person, "manager")
    [audit] = audits_once_sent(page)
    person.waits_until("() => indexedDB.databases().then(all => !all.some(d => d.name === 'momento'))")
    assert str(audit.id) == body["id"] and audit.auditor_id == organisation.ids["manager"]


# What the outbox says waits on the phone: a photo tried at least once; nothing at all.
PHOTO_TRIED = """() => import('/static/js/outbox.js').then(outbox => outbox.pending())
                     .then(waiting => waiting.photosToSend[0]?.attempts >= 1)"""
NOTHING_WAITING = """() => import('/static/js/outbox.js').then(outbox => outbox.pending())
                         .then(waiting => waiting.all.length === 0)"""


def test_a_photo_sent_while_the_photo_store_is_down_is_sent_again_once_it_is_back(
        person, organisation, app, s3_server, s3_bucket, monkeypatch):
    """The server's real 503 (the S3 store stopped), not a routed one: the audit is sent,
    its photo waits on the phone and goes, once, when the store is back."""
    client = boto3.client("s3", endpoint_url=s3_server.url, region_name="us-east-1",
                          config=botocore.config.Config(retries={"total_max_attempts": 1}))
    store = S3PhotoStore(client, s3_bucket, retry_after=1)
    monkeypatch.setitem(app.extensions, "momento.photo_store", store)
    page = person.page
    answers = []
    page.on("response", lambda r: "/photos" in r.url and r.request.method == "POST"
            and answers.append((r.status, r.headers.get("retry-after"))))
    with s3_server.stopped():
        walk_in_with_a_photo_of_the_floor(person)
        person.waits_until(PHOTO_TRIED)
        [waiting] = page.evaluate(PHOTOS_ON_THE_PHONE)
        assert waiting["refused"] is None and waiting["itemId"] == "floor_clean"
        assert len(stored_audits()) == 1 and stored_photos() == []
    assert answers and set(answers) == {(503, "1")}
    person.waits_until(NOTHING_WAITING, timeout=30)  # by the outbox's own timer, no flush
    [photo] = stored_photos()
    assert str(photo.id) == waiting["id"] and photo.item_id == "floor_clean"
    assert {name for name, _ in store.blobs()} == {photo.display_sha256, photo.thumb_sha256}
    assert answers[-1] == (201, None) and [status for status, _ in answers].count(201) == 1
