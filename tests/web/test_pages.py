"""Home, the location door (QR code) URL, the audit pages and the language."""
import json
import re
from html.parser import HTMLParser

from tests.helpers import audit_body, checklist_folder, every_type_walk_in


def test_home_shows_my_locations_scores_and_the_two_audits(web, organisation):
    web.open("POST", "/api/v1/audits", json=audit_body(organisation.locations["N1"]),
                    headers=organisation.headers("manager"))
    web.login(organisation.emails["manager"])
    page = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "North One" in page and "South One" not in page
    assert "100&nbsp;%" in page  # the latest walk-in
    assert f"/audit/walk-in?location={organisation.locations['N1']}" in page
    assert f"/audit/phone?location={organisation.locations['N1']}" in page
    assert "My open corrective actions" in page


def test_several_locations_are_offered_to_choose(web, organisation):
    web.login(organisation.emails["regional"])
    page = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Choose the location to audit" in page and "North Two" in page and "South One" not in page
    assert 'href="/audit/walk-in' not in page  # no audit to start until a location is chosen


def test_the_door_url_chooses_the_location_and_hides_others(web, organisation):
    web.login(organisation.emails["regional"])
    page = web.get("/l/N2").get_data(as_text=True)
    assert f"/audit/walk-in?location={organisation.locations['N2']}" in page
    assert web.get("/l/S1").status_code == 404
    assert web.get("/l/NOPE").status_code == 404
    for not_a_code in ("%00", "N1%00", "N" * 33, "-N1"):  # no code of ours, never a query
        assert web.get(f"/l/{not_a_code}").status_code == 404
    assert web.get(f"/?location={organisation.locations['S1']}").status_code == 404


def test_audit_pages_render_the_checklist_in_scope_only(web, organisation):
    web.login(organisation.emails["manager"])
    n1, s1 = organisation.locations["N1"], organisation.locations["S1"]
    page = web.get(f"/audit/walk-in?location={n1}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Is the floor clean?" in text and 'capture="environment"' in text
    assert "<noscript>" in text and "turn on JavaScript" in text  # its form is sent by audit-form.js
    phone = web.get(f"/audit/phone?location={n1}").get_data(as_text=True)
    assert 'href="tel:+34900000001"' in phone
    assert 'data-applies-item="answered"' in phone
    assert web.get(f"/audit/walk-in?location={s1}").status_code == 404
    for not_an_id in ("junk", "0", "2147483648", "9223372036854775808", "1e400"):
        assert web.get(f"/audit/phone?location={not_an_id}").status_code == 200  # the chosen one
        assert web.get(f"/?location={not_an_id}").status_code == 200


class Elements(HTMLParser):
    """The elements of a page that have an id: {id: (tag, attributes)}; and label texts by `for`."""

    def __init__(self, page):
        super().__init__()
        self.by_id, self.labels, self._label = {}, {}, None
        self.feed(page)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if "id" in attributes:
            self.by_id[attributes["id"]] = (tag, attributes)
        if tag == "label" and "for" in attributes:
            self._label = attributes["for"]
            self.labels[self._label] = ("", attributes.get("class"))

    def handle_data(self, data):
        if self._label:
            text, css = self.labels[self._label]
            self.labels[self._label] = (text + data.strip(), css)

    def handle_endtag(self, tag):
        if tag == "label":
            self._label = None


def test_the_checklist_page_draws_the_widget_of_every_item_type(make_app, web_on, organisation, tmp_path):
    """What each item type draws comes from the table of item types, with which answers fail."""
    app = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "checklists", every_type_walk_in())))
    web = web_on(app)
    web.login(organisation.emails["manager"])
    page = web.get(f"/audit/walk-in?location={organisation.locations['N1']}",
                   headers={"Accept-Language": "es"})
    assert page.status_code == 200
    elements = Elements(page.get_data(as_text=True))

    def item(item_id):
        return elements.by_id[f"item-{item_id}"][1]

    def radios(item_id):
        """(value, answer, fails, label, label class) of each button of a choices widget."""
        return [(attributes["value"], json.loads(attributes["data-value"]), "data-fails" in attributes,
                 *elements.labels[element_id])
                for element_id, (tag, attributes) in elements.by_id.items()
                if tag == "input" and attributes.get("name") == item_id and attributes["type"] == "radio"]

    kinds = {item_id: item(item_id)["data-widget"] for item_id in
             ("seen_first", "greeted", "ignored", "tidiness", "queue", "wait", "shelves")}
    assert kinds == {"seen_first": "text", "greeted": "choices", "ignored": "choices",
                     "tidiness": "choices", "queue": "number", "wait": "number", "shelves": "choices"}
    assert radios("greeted") == [("yes", True, False, "Sí", None), ("no", False, True, "No", "bad")]
    assert radios("ignored") == [("yes", True, True, "Sí", "bad"), ("no", False, False, "No", None),
                                 ("na", "na", False, "N/A", None)]
    assert [(value, fails) for value, _, fails, *_ in radios("tidiness")] == [
        ("1", True), ("2", True), ("3", False), ("4", False), ("5", False)]
    assert [value for _, value, *_ in radios("tidiness")] == [1, 2, 3, 4, 5]
    assert radios("shelves") == [("spotless", "spotless", False, "Impecables", None),
                                 ("ok", "ok", False, "Bien", None),
                                 ("messy", "messy", True, "Desordenadas", "bad"),
                                 ("na", "na", False, "N/A", None)]
    assert json.loads(item("queue")["data-fails"]) == [[4, None]]
    assert json.loads(item("wait")["data-fails"]) == [[60, 120], [120, None]]
    tag, queue = elements.by_id["queue"]
    assert (tag, queue["type"], queue["min"], queue["max"], queue["step"]) == ("input", "number", "0", "20", "1")
    assert elements.by_id["wait"][1]["max"] == "600"
    tag, seen_first = elements.by_id["seen_first"]
    assert (tag, seen_first["maxlength"]) == ("textarea", "2000")
    assert "data-required" not in item("seen_first") and "data-required" in item("queue")
    # A failed item that asks for a photo offers the camera, whatever its widget.
    assert {"greeted-photo", "queue-photo", "shelves-photo"} <= set(elements.by_id)
    assert "ignored-photo" not in elements.by_id and "wait-photo" not in elements.by_id


def test_spanish_from_the_browser_and_english_by_choice(web, organisation):
    web.login(organisation.emails["manager"])
    n1 = organisation.locations["N1"]
    spanish = web.get(f"/audit/walk-in?location={n1}", headers={"Accept-Language": "es-ES,es;q=0.9"})
    assert "¿El suelo está limpio?" in spanish.get_data(as_text=True)
    assert "Estoy entrando" in spanish.get_data(as_text=True)
    response = web.post("/language", {"locale": "en", "next": f"/audit/walk-in?location={n1}"})
    assert response.location == f"/audit/walk-in?location={n1}"
    english = web.get(f"/audit/walk-in?location={n1}", headers={"Accept-Language": "es-ES"})
    assert "Is the floor clean?" in english.get_data(as_text=True)
    from audit_server.extensions import db
    db.session.refresh(organisation.users["manager"])
    assert organisation.users["manager"].locale == "en"


def test_an_unknown_language_changes_nothing(web, organisation):
    web.login(organisation.emails["manager"])
    assert web.post("/language", {"locale": "xx"}).status_code == 302
    page = web.get("/", headers={"Accept-Language": "es"}).get_data(as_text=True)
    assert "Entra como un cliente" in page


def test_unknown_pages_are_a_page_not_json(web, organisation):
    web.login(organisation.emails["manager"])
    response = web.get("/no/such/page")
    assert response.status_code == 404 and response.mimetype == "text/html"
    assert web.get("/api/v1/nothing").json["error"]["code"] == "not_found"


def test_text_is_sent_compressed_and_the_service_worker_lists_the_shell(client, organisation):
    response = client.get("/static/css/app.css", headers={"Accept-Encoding": "gzip"})
    assert response.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in response.headers["Vary"]
    worker = client.get("/sw.js").get_data(as_text=True)
    assert "/static/js/audit-form.js" in worker and "__SHELL_VERSION__" not in worker


def test_open_actions_are_listed_overdue_marked_in_the_readers_language(app):
    from datetime import datetime, timedelta, timezone

    from flask import render_template

    from audit_server.services.my_work import ActionRow

    actions = [ActionRow(1, {"es": "Limpiar el suelo", "en": "Clean the floor"}, "North One",
                         "Europe/Madrid", "open", "Ana", datetime(2026, 11, 20, 23, 30, tzinfo=timezone.utc),
                         timedelta(days=3))]
    with app.test_request_context("/", headers={"Accept-Language": "es"}):
        html = render_template("home/_actions.html", actions=actions, actions_total=4, actions_overdue=1)
    assert "Limpiar el suelo" in html and "North One" in html and 'href="/actions/1"' in html
    assert "Vencida hace 3 días" in html and "21 nov 2026" in html  # the deadline on Madrid's clock


def test_the_audit_form_carries_each_items_guidance_hidden_until_it_fails(web, organisation):
    web.login(organisation.emails["manager"])
    page = web.get(f"/audit/walk-in?location={organisation.locations['N1']}", headers={"Accept-Language": "es"})
    text = page.get_data(as_text=True)
    assert re.search(r'<p class="guidance" id="guidance-floor_clean" data-title="Así debería ser" '
                     r'aria-live="polite" hidden>El suelo está limpio y seco', text)
    assert text.count('class="guidance"') == 9  # every scored item of the walk-in, no text item
    assert 'id="guidance-first_noticed"' not in text
    phone = web.get(f"/audit/phone?location={organisation.locations['N1']}", headers={"Accept-Language": "en"})
    assert 'id="guidance-hold_seconds"' in phone.get_data(as_text=True)
    assert "Less than 30 seconds on hold." in phone.get_data(as_text=True)
