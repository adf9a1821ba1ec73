"""Home, the location door (QR code) URL, the audit pages and the language."""
from tests.helpers import audit_body


def test_home_shows_my_locations_scores_and_the_two_audits(web, organisation):
    web.open("POST", "/api/v1/audits", json=audit_body(organisation.locations["N1"]),
                    headers=organisation.headers("manager"))
    web.login(organisation.emails["manager"])
    page = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "North One" in page and "South One" not in page
    assert "100&nbsp;%" in page  # the latest walk-in
    assert "/audit/walk-in?location=%d" % organisation.locations["N1"] in page
    assert "/audit/phone?location=%d" % organisation.locations["N1"] in page
    assert "My open corrective actions" in page


def test_several_locations_are_offered_to_choose(web, organisation):
    web.login(organisation.emails["regional"])
    page = web.get("/", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Choose a location" in page and "North Two" in page and "South One" not in page
    assert "/audit/walk-in" not in page


def test_the_door_url_chooses_the_location_and_hides_others(web, organisation):
    web.login(organisation.emails["regional"])
    page = web.get("/l/N2").get_data(as_text=True)
    assert "/audit/walk-in?location=%d" % organisation.locations["N2"] in page
    assert web.get("/l/S1").status_code == 404
    assert web.get("/l/NOPE").status_code == 404
    assert web.get("/?location=%d" % organisation.locations["S1"]).status_code == 404


def test_audit_pages_render_the_checklist_in_scope_only(web, organisation):
    web.login(organisation.emails["manager"])
    n1, s1 = organisation.locations["N1"], organisation.locations["S1"]
    page = web.get(f"/audit/walk-in?location={n1}", headers={"Accept-Language": "en"})
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Is the floor clean?" in text and 'capture="environment"' in text
    phone = web.get(f"/audit/phone?location={n1}").get_data(as_text=True)
    assert 'href="tel:+34900000001"' in phone
    assert 'data-applies-item="answered"' in phone
    assert web.get(f"/audit/walk-in?location={s1}").status_code == 404
    assert web.get("/audit/phone?location=junk").status_code == 200  # the chosen one


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
        html = render_template("home/_actions.html", actions=actions)
    assert "Limpiar el suelo" in html and "North One" in html and 'href="/actions/1"' in html
    assert "Vencida hace 3 días" in html and "21 nov 2026" in html  # the deadline on Madrid's clock
