"""One phone, two managers: what one leaves on it is neither seen nor sent by the other."""
from conftest import audit_body
from phone_browser import chromium, live_server, person, phone  # noqa: F401 (fixtures)
from test_audits_on_a_phone import WALK_IN_ANSWERS, stored_audits, walks_in

QUEUED_ON_THE_PHONE = """async user => {
    const db = await new Promise(r => { const q = indexedDB.open('momento-user-' + user); q.onsuccess = () => r(q.result); });
    const all = await new Promise(r => { const q = db.transaction('outbox').objectStore('outbox').getAll(); q.onsuccess = () => r(q.result); });
    db.close();
    return all.map(entry => entry.body.id);
}"""


def audits_once_sent(page):
    """The stored audits, once the phone has had time to send what it had (within 10 s)."""
    for _ in range(50):
        audits = stored_audits()
        if audits:
            page.wait_for_timeout(1000)  # and time to send it twice, were it to
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
    signs_in_as(person, "manager")
    person.waits_for_the_service_worker()
    page.wait_for_function("""() => caches.open('momento-pages').then(c => c.keys())
                                   .then(keys => keys.some(r => r.url.includes('/audit/walk-in')))""")
    context.set_offline(True)
    walks_in(person)
    for item_id, value in WALK_IN_ANSWERS.items():
        person.answers(item_id, value)
    page.fill("#first_noticed", "Manager of North One")
    page.click("text=Send the audit")
    page.wait_for_selector("#queue-status:has-text('1 waiting to send')")
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
    page.wait_for_timeout(1500)  # time enough for any queue to be sent
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
    page.wait_for_function("() => indexedDB.databases().then(all => !all.some(d => d.name === 'momento'))")
    assert str(audit.id) == body["id"] and audit.auditor_id == organisation.ids["manager"]
