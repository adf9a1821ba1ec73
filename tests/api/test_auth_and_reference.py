"""Tokens, checklists, locations and the OpenAPI document."""
import re
from datetime import timedelta

import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ApiToken
from tests.helpers import PASSWORD


def test_token_for_good_credentials(client, organisation):
    r = client.post("/api/v1/auth/token", json={"email": "Manager@Example.com ", "password": PASSWORD})
    assert r.status_code == 201
    token = r.get_json()["token"]
    assert r.get_json()["expires_at"]
    r = client.get("/api/v1/locations", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200


def test_wrong_password_and_unknown_email_answer_alike(client, organisation):
    for email in ("manager@example.com", "nobody@example.com"):
        r = client.post("/api/v1/auth/token", json={"email": email, "password": "wrong password"})
        assert r.status_code == 401
        assert r.get_json()["error"] == {"code": "invalid_credentials",
                                         "message": "Wrong email or password.", "fields": {}}


def test_token_request_needs_both_fields(client):
    r = client.post("/api/v1/auth/token", json={"email": "a@b.c"})
    assert r.status_code == 422
    assert "password" in r.get_json()["error"]["fields"]


def test_inactive_user_gets_no_token(app, client, organisation):
    with app.app_context():
        user = db.session.merge(organisation.users["manager"])
        user.active = False
        db.session.commit()
    r = client.post("/api/v1/auth/token", json={"email": "manager@example.com", "password": PASSWORD})
    assert r.status_code == 401


def test_expired_token_is_refused(app, client, organisation):
    headers = organisation.headers("manager")
    with app.app_context():
        for token in db.session.scalars(sa.select(ApiToken)):
            token.expires_at = token.expires_at - timedelta(hours=2)
        db.session.commit()
    r = client.get("/api/v1/locations", headers=headers)
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == "Bearer"


def test_tokens_are_stored_hashed(app, organisation):
    token = organisation.headers("admin")["Authorization"].split()[1]
    with app.app_context():
        assert db.session.scalar(sa.select(ApiToken.token_hash)) != token


def test_every_endpoint_but_the_token_one_needs_auth(app, client):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint in ("auth.token", "api-docs.openapi_json"):
            continue
        samples = {"int": "1", "id": "1", "uuid": "00000000-0000-4000-8000-000000000000"}
        url = re.sub(r"<(?:(\w+)(?:\([^)]*\))?:)?\w+>",
                     lambda m: samples.get(m.group(1), "x"), rule.rule)  # noqa: B023 (used at once)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            r = client.open(url, method=method, json={})
            assert r.status_code == 401, (method, url)


def test_checklists_list_and_detail(client, organisation):
    headers = organisation.headers("manager")
    listed = client.get("/api/v1/checklists", headers=headers).get_json()
    assert [(c["id"], c["kind"]) for c in listed] == [
        ("call_your_own_number", "phone"), ("five_second_walk_in", "walk_in")]
    walk_in = client.get("/api/v1/checklists/five_second_walk_in", headers=headers).get_json()
    assert walk_in["timer_seconds"] == 5
    assert walk_in["title"] == {"es": "Entrada de cinco segundos", "en": "Five-second walk-in"}
    items = [i["id"] for s in walk_in["definition"]["sections"] for i in s["items"]]
    assert items == ["first_noticed", "greeted_within_5s", "smile", "staff_available", "floor_clean",
                     "entrance_clear", "lighting_signage", "queue_managed", "smell_noise",
                     "overall_impression"]
    floor = next(i for s in walk_in["definition"]["sections"] for i in s["items"] if i["id"] == "floor_clean")
    assert floor["action_title"] == {"es": "Limpiar y secar el suelo de la entrada",
                                     "en": "Clean and dry the entrance floor"}
    assert floor["guidance"]["es"].startswith("El suelo está limpio y seco")
    again = client.get(f"/api/v1/checklists/five_second_walk_in?version={walk_in['version']}",
                       headers=headers).get_json()
    assert again == walk_in


def test_unknown_checklist_or_version_is_404(client, organisation):
    headers = organisation.headers("manager")
    r = client.get("/api/v1/checklists/nope", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.get("/api/v1/checklists/five_second_walk_in?version=ffff", headers=headers)
    assert r.status_code == 404


def test_location_detail_is_scoped(client, organisation):
    headers = organisation.headers("manager")
    n1 = client.get(f"/api/v1/locations/{organisation.locations['N1']}", headers=headers)
    assert n1.status_code == 200
    assert n1.get_json() | {"id": None} == {
        "id": None, "code": "N1", "name": "North One", "address": "Street 1",
        "phone": "+34 900 000 001", "timezone": "Europe/Madrid",
        "region": {"id": organisation.regions["N"], "code": "N", "name": "North"}}
    assert client.get(f"/api/v1/locations/{organisation.locations['S1']}", headers=headers).status_code == 404


def test_openapi_documents_the_api(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    assert {"/api/v1/audits", "/api/v1/audits/{audit_id}", "/api/v1/checklists",
            "/api/v1/auth/token", "/api/v1/locations"} <= set(spec["paths"])
    assert "AuditSubmission" in spec["components"]["schemas"]
    assert spec["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


def test_unknown_api_route_and_method_are_json(client, organisation):
    headers = organisation.headers("manager")
    r = client.get("/api/v1/nothing-here", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"
    r = client.delete("/api/v1/checklists", headers=headers)
    assert r.status_code == 405 and r.get_json()["error"]["code"] == "method_not_allowed"
