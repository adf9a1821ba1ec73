"""NUL, lone surrogates, huge integers and extreme dates in every field of every
endpoint (path, query, JSON body, multipart form): never a 500, always an error in
the API's shape. The fields come from the served document, so a new endpoint or
field is fuzzed as soon as it exists (and one without a valid request here fails)."""
import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, settings
from urllib3 import encode_multipart_formdata

from tests.helpers import (
    PASSWORD,
    PHONE_CALL,
    WALK_IN,
    audit_body,
    best_phone,
    document_operations,
    encoded,
    failing,
    given_hostile_values,
    served_document,
    submit,
)
from tests.photo_samples import small_jpeg


@dataclass
class Request:
    """The parts of a request the server takes (before one of them is made hostile)."""

    path: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    json: dict | None = None
    multipart: dict | None = None
    role: str = "manager"  # who sends it (reports are not a manager's)


def valid_requests(world):
    """A request each operation accepts, with every field it documents filled in."""
    def photo():
        return {"id": str(uuid.uuid4()), "caption": "Mancha junto a la puerta", "photo": small_jpeg()}

    recently = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
    today = datetime.now(timezone.utc).date()
    report_query = {"from": (today - timedelta(days=7)).isoformat(), "to": today.isoformat(),
                    "tz": "America/Bogota"}
    return {
        ("POST", "/api/v1/auth/token"): Request(json={"email": world.email, "password": PASSWORD,
                                                      "name": "Teléfono de Ana 📱"}),
        ("GET", "/api/v1/auth/tokens"): Request(),
        ("DELETE", "/api/v1/auth/tokens/{token_id}"): Request(path={"token_id": world.token_id}),
        ("GET", "/api/v1/checklists"): Request(),
        ("GET", "/api/v1/checklists/{checklist_id}"): Request(path={"checklist_id": WALK_IN},
                                                               query={"version": world.version}),
        ("GET", "/api/v1/locations"): Request(),
        ("GET", "/api/v1/locations/{location_id}"): Request(path={"location_id": world.location_id}),
        ("GET", "/api/v1/locations/{location_id}/due"): Request(path={"location_id": world.location_id}),
        # A phone call: it leaves the walk-in's action (and its version) alone.
        ("POST", "/api/v1/audits"): Request(json=audit_body(
            world.location_id, PHONE_CALL, checklist_version=world.phone_version,
            notes="Día de lluvia ☔",
            answers=best_phone() | {"courtesy": {"value": 5, "comment": "Muy amable"}})),
        ("GET", "/api/v1/audits"): Request(query={
            "page": 1, "per_page": 10, "location_id": world.location_id, "checklist_id": WALK_IN,
            "since": recently, "until": datetime.now(timezone.utc).isoformat()}),
        ("GET", "/api/v1/audits/{audit_id}"): Request(path={"audit_id": world.audit_id}),
        ("POST", "/api/v1/audits/{audit_id}/photos"): Request(
            path={"audit_id": world.audit_id}, multipart=photo() | {"item_id": "floor_clean"}),
        ("GET", "/api/v1/audits/{audit_id}/photos"): Request(
            path={"audit_id": world.audit_id}, query={"page": 1, "per_page": 10}),
        ("GET", "/api/v1/actions"): Request(query={
            "page": 1, "per_page": 10, "status": "open", "location_id": world.location_id,
            "audit_id": world.audit_id, "owner": "me", "overdue": "false"}),
        ("GET", "/api/v1/actions/metrics"): Request(query={"group_by": "region", "since": recently}),
        ("GET", "/api/v1/actions/{action_id}"): Request(path={"action_id": world.action_id}),
        ("PATCH", "/api/v1/actions/{action_id}"): Request(
            path={"action_id": world.action_id},
            json={"version": world.action_version, "note": "Fregona pedida"}),
        ("POST", "/api/v1/actions/{action_id}/photos"): Request(
            path={"action_id": world.action_id}, multipart=photo()),
        # A period by from/to (period would exclude them), so that every field is filled in.
        ("GET", "/api/v1/reports"): Request(role="admin", query=report_query | {
            "checklist_id": WALK_IN}),
        ("GET", "/api/v1/reports/regions/{code}"): Request(
            role="regional", path={"code": "N"}, query=report_query | {"checklist_id": WALK_IN}),
        ("GET", "/api/v1/reports/regions/{code}/items/{checklist_id}/{item_id}"): Request(
            role="regional", path={"code": "N", "checklist_id": WALK_IN, "item_id": "floor_clean"},
            query=report_query | {"page": 1, "per_page": 10}),
        **{("GET", f"/api/v1/exports/{name}"): Request(query=report_query | {
            "checklist_id": WALK_IN, "region": "N", "location_id": world.location_id})
           for name in ("audits.csv", "audits.xlsx", "actions.csv", "actions.xlsx")},
        # Last: it revokes the token it is sent with (of someone no other request uses).
        ("DELETE", "/api/v1/auth/token"): Request(role="manager_s"),
    }


def targets():
    """(operation, where, name) for every documented field, and the inner fields of answers."""
    document = served_document()
    found = []
    for method, path, operation in document_operations(document):
        parameters = document["paths"][path].get("parameters", []) + operation.get("parameters", [])
        found += [((method, path), p["in"], (p["name"],)) for p in parameters]
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            schema = document["components"]["schemas"][content["schema"]["$ref"].rsplit("/", 1)[-1]]
            where = "json" if media_type == "application/json" else "multipart"
            found += [((method, path), where, (name,)) for name in schema["properties"]]
            if "answers" in schema["properties"]:
                found += [((method, path), "json", ("answers", "courtesy", name))
                          for name in ("value", "comment")]
                found += [((method, path), "json", ("answers", None))]  # a hostile item id
    return found


def send(client, headers, operation, request):
    method, path = operation
    for name, value in request.path.items():
        path = path.replace("{" + name + "}", quote(encoded(value), safe=""))
    if request.query:
        path += "?" + "&".join(f"{quote(name)}={quote(encoded(value), safe='')}"
                               for name, value in request.query.items())
    if request.json is not None:
        return client.open(path, method=method, data=json.dumps(request.json),
                           content_type="application/json", headers=headers)
    if request.multipart is not None:
        parts = [(name, ("photo.jpg", value, "image/jpeg") if isinstance(value, bytes) else encoded(value))
                 for name, value in request.multipart.items()]
        body, content_type = encode_multipart_formdata(parts)
        return client.open(path, method=method, data=body, content_type=content_type, headers=headers)
    return client.open(path, method=method, headers=headers)


def made_hostile(request, where, names, value):
    if where == "path":
        request.path[names[0]] = value
    elif where == "query":
        request.query[names[0]] = value
    elif where == "multipart":
        request.multipart[names[0]] = value
    elif names == ("answers", None):
        request.json["answers"][str(value)] = {"value": True}
    else:
        parent = request.json
        for name in names[:-1]:
            parent = parent[name]
        parent[names[-1]] = value
    return request


@dataclass
class World:
    email: str
    location_id: int
    audit_id: str
    action_id: int
    action_version: int
    version: str
    phone_version: str
    token_id: int  # a token of the manager's besides the one the requests use


@pytest.fixture
def world(client, organisation):
    """An audit of N1 by its manager in which the floor was dirty (so an action is open)."""
    audit = submit(client, organisation, answers=failing("floor_clean"))
    action_id = audit["actions"][0]["id"]
    action = client.get(f"/api/v1/actions/{action_id}", headers=organisation.headers("manager"))
    phone = client.get(f"/api/v1/checklists/{PHONE_CALL}", headers=organisation.headers("manager"))
    token = client.post("/api/v1/auth/token", json={"email": organisation.emails["manager"],
                                                    "password": PASSWORD}).get_json()["token"]
    token_id = max(t["id"] for t in client.get(
        "/api/v1/auth/tokens", headers={"Authorization": f"Bearer {token}"}).get_json())
    return World(organisation.emails["manager"], organisation.locations["N1"], audit["id"],
                 action_id, action.get_json()["version"], audit["checklist_version"],
                 phone.get_json()["version"], token_id)


def test_every_operation_has_a_request_it_accepts(client, organisation, world):
    """So that a hostile value in one field is judged on its own, the rest being valid."""
    documented = {(method, path) for method, path, _ in document_operations(served_document())}
    requests = valid_requests(world)
    assert set(requests) == documented
    for operation, request in requests.items():
        response = send(client, organisation.headers(request.role), operation, request)
        assert 200 <= response.status_code < 300, (operation, response.get_json())


@pytest.mark.parametrize("target", targets(), ids=lambda t: f"{t[0][0]} {t[0][1]} {t[1]} {t[2]}")
@given_hostile_values
@settings(max_examples=8, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
def test_no_hostile_value_gives_a_500(client, organisation, world, target, value):
    operation, where, names = target
    request = made_hostile(valid_requests(world)[operation], where, names, value)
    response = send(client, organisation.headers(request.role), operation, request)
    assert response.status_code < 500, response.get_data(as_text=True)
    if response.status_code >= 400:
        assert set(response.get_json()["error"]) == {"code", "message", "fields"}
