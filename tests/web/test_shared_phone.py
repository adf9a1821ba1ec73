"""A shared phone: the pages name who is signed in, and the phone's queue is only ever
accepted under the session of the person it belongs to."""
import re

from tests.helpers import audit_body


def signed_in_user(page):
    found = re.search(r'<meta name="momento-user" content="([^"]*)">', page.get_data(as_text=True))
    return found and found.group(1)


def test_the_pages_name_the_signed_in_person_and_nobody_when_signed_out(web, organisation):
    assert signed_in_user(web.get("/login")) is None
    web.login(organisation.emails["manager"])
    assert signed_in_user(web.get("/")) == str(organisation.ids["manager"])


def test_a_queue_sent_under_someone_elses_session_is_refused_and_stays_on_the_phone(web, organisation):
    body = audit_body(organisation.locations["S1"])
    web.login(organisation.emails["manager_s"])
    headers = {"X-CSRFToken": web.csrf_token("/"), "X-Momento-User": str(organisation.ids["manager"])}
    response = web.open("POST", "/api/v1/audits", json=body, headers=headers)
    assert response.status_code == 401
    assert response.json["error"]["code"] == "another_person"
    headers["X-Momento-User"] = str(organisation.ids["manager_s"])
    response = web.open("POST", "/api/v1/audits", json=body, headers=headers)
    assert response.status_code == 201
    assert response.json["auditor_id"] == organisation.ids["manager_s"]
