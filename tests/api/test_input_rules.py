"""The input rules every schema gets (schemas/base.py): the ten inputs that were 500s,
now 422 naming their field (or 404 for a path), on SQLite and on PostgreSQL."""
import io
import uuid

import jsonschema
import pytest
from werkzeug.exceptions import NotFound

from audit_server.services import checklists
from tests.helpers import audit_body, best_walk_in, document_operations, failing, served_document, submit
from tests.photo_samples import small_jpeg

NUL = "Dirty \x00 floor"


def error_fields(response, status=422):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]["fields"]


@pytest.fixture
def action(client, organisation):
    """An open action of N1, as the manager reads it."""
    audit = submit(client, organisation, answers=failing("smile"))
    action_id = audit["actions"][0]["id"]
    return client.get(f"/api/v1/actions/{action_id}", headers=organisation.headers("manager")).get_json()


@pytest.mark.parametrize("change, field", [
    ({"notes": NUL}, "notes"),
    ({"answers": best_walk_in() | {"smile": {"value": True, "comment": NUL}}}, "answers.smile.comment"),
    ({"answers": best_walk_in() | {"first_noticed": {"value": NUL}}}, "answers.first_noticed.value"),
    ({"checklist_id": NUL}, "checklist_id"),
    ({"location_id": 2**31}, "location_id"),
    ({"location_id": 2**63}, "location_id"),
    ({"location_id": 0}, "location_id"),
    ({"location_id": 1.5}, "location_id"),
    ({"started_at": "0001-01-01T00:00:00+00:00"}, "started_at"),
    ({"submitted_at": "9999-12-31T23:59:59-12:00"}, "submitted_at"),
])
def test_bad_text_numbers_and_dates_in_an_audit_are_422_naming_the_field(
        client, organisation, change, field):
    body = audit_body(organisation.locations["N1"]) | change
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert field in error_fields(r), r.get_json()


@pytest.mark.parametrize("change, field", [
    ({"status": "in_progress", "note": NUL}, "note"),
    ({"note": NUL}, "note"),
    ({"owner_id": 2**31, "reason": "Budget."}, "owner_id"),
    ({"version": 2**63}, "version"),
])
def test_bad_text_and_numbers_in_an_action_change_are_422(client, organisation, action, change, field):
    body = {"version": action["version"], **change}
    r = client.patch(f"/api/v1/actions/{action['id']}", json=body, headers=organisation.headers("manager"))
    assert field in error_fields(r)


def test_a_nul_in_a_reassignment_reason_is_422(client, organisation, action):
    body = {"version": action["version"], "owner_id": organisation.ids["regional"], "reason": NUL}
    r = client.patch(f"/api/v1/actions/{action['id']}", json=body, headers=organisation.headers("manager"))
    assert list(error_fields(r)) == ["reason"]


@pytest.mark.parametrize("target", ["audit", "action"])
def test_a_nul_in_a_photo_caption_is_422(client, organisation, action, target):
    path = (f"/api/v1/audits/{action['audit_id']}/photos" if target == "audit"
            else f"/api/v1/actions/{action['id']}/photos")
    form = {"id": str(uuid.uuid4()), "caption": NUL, "photo": (io.BytesIO(small_jpeg()), "p.jpg")}
    r = client.post(path, data=form, content_type="multipart/form-data",
                    headers=organisation.headers("manager"))
    assert list(error_fields(r)) == ["caption"]


@pytest.mark.parametrize("query", [
    "since=9999-12-31T23:59:59-12:00", "since=0001-01-01T00:00:00%2B14:00", "since=1999-12-31T23:59:59Z"])
def test_metrics_since_a_date_out_of_any_audit_is_422(client, organisation, query):
    r = client.get(f"/api/v1/actions/metrics?{query}", headers=organisation.headers("admin"))
    assert list(error_fields(r)) == ["since"]


@pytest.mark.parametrize("path", [
    "/api/v1/locations/12345678901234567890", "/api/v1/locations/2147483648",
    "/api/v1/locations/0", "/api/v1/actions/9223372036854775808",
    "/api/v1/actions/9223372036854775808/photos", "/api/v1/checklists/%00"])
def test_ids_no_database_could_hold_are_404(client, organisation, path):
    method = "POST" if path.endswith("/photos") else "GET"
    r = client.open(path, method=method, headers=organisation.headers("admin"))
    assert error_fields(r, 404) == {}


def test_the_largest_id_is_looked_up(client, organisation):
    r = client.get(f"/api/v1/locations/{2**31 - 1}", headers=organisation.headers("admin"))
    assert r.status_code == 404 and r.get_json()["error"]["message"] == "No such location."


def test_accents_emoji_and_control_characters_but_nul_are_kept(client, organisation):
    text = "Suelo mojado 🚧 — «cuidado»\tañadido\u200b"
    body = audit_body(organisation.locations["N1"], notes=text)
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 201 and r.get_json()["notes"] == text


@pytest.mark.parametrize("path, method, status", [
    ("/api/v1/nowhere", "GET", 404), ("/api/v1/audits", "DELETE", 405),
    ("/api/v1/audits", "POST", 401)])
def test_every_error_carries_fields(client, path, method, status):
    r = client.open(path, method=method)
    assert r.status_code == status
    assert r.get_json()["error"]["fields"] == {}
    if status == 405:
        assert set(r.headers["Allow"].split(", ")) >= {"GET", "POST"}


@pytest.mark.parametrize("checklist_id", [
    "a", "a" * 64, "a" * 65, "five_second_walk_in", "walk_in_2", "A", "1a", "_a", "a-b", "ñu"])
def test_a_checklist_id_in_a_path_is_what_a_checklist_file_may_name(app, checklist_id):
    """The route takes exactly the identifiers of checklists/schema.json: its pattern and length."""
    identifier = checklists.file_schema()["$defs"]["identifier"]
    named = jsonschema.Draft202012Validator(identifier).is_valid(checklist_id)
    try:
        app.url_map.bind("").match(f"/api/v1/checklists/{checklist_id}")
        routed = True
    except NotFound:
        routed = False
    assert routed == named


def path_of(template, operation):
    """A path for an operation of the served document: any value its path parameters take."""
    values = {"integer": "1", "uuid": str(uuid.uuid4()), "string": "five_second_walk_in"}
    parameters = served_document()["paths"][template].get("parameters", [])
    for parameter in parameters + operation.get("parameters", []):
        if parameter["in"] == "path":
            schema = parameter["schema"]
            value = values[schema.get("format") or schema["type"]]
            template = template.replace("{" + parameter["name"] + "}", value)
    return template


@pytest.mark.parametrize("method, path, operation", document_operations(served_document()),
                         ids=lambda value: value if isinstance(value, str) else "")
def test_every_endpoint_refuses_a_query_parameter_it_does_not_know(
        client, organisation, method, path, operation):
    """A misspelt filter is a 422 naming it, on every endpoint (whether or not it reads a
    query), never an answer that silently ignores it."""
    r = client.open(path_of(path, operation) + "?locaton_id=1", method=method,
                    headers=organisation.headers("admin"))
    assert error_fields(r) == {"locaton_id": ["Unknown field."]}
