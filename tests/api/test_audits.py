"""POST/GET /api/v1/audits: scoring, idempotency, bad input and scope."""
import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit
from tests.helpers import audit_body, best_phone, best_walk_in, submit


def count_rows(app):
    """(audits stored, answers stored in them)"""
    with app.app_context():
        documents = db.session.scalars(sa.select(Audit.answers)).all()
        return len(documents), sum(len(answers) for answers in documents)


def post(client, organisation, body, role="manager", **kwargs):
    return client.post("/api/v1/audits", json=body, headers=organisation.headers(role), **kwargs)


def test_submit_walk_in_returns_201_with_score(client, organisation):
    body = audit_body(organisation.locations["N1"])
    r = post(client, organisation, body)
    assert r.status_code == 201
    audit = r.get_json()
    assert audit["id"] == body["id"]
    assert audit["checklist_version"]
    assert audit["score"]["percent"] == 100.0
    assert audit["score"]["critical_failed"] is False
    assert audit["score"]["failed_items"] == []
    assert audit["score"]["sections"][0]["id"] == "first_five_seconds"
    assert audit["answers"]["first_noticed"]["value"] == "A tidy shop and a smile"
    assert audit["auditor_id"] == organisation.ids["manager"]


@pytest.mark.parametrize("location, submitted, local_day", [
    ("N1", datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc), "2026-11-30"),  # Madrid: Monday
    ("S1", datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc), "2026-11-29"),   # Mexico: Sunday
])
def test_an_audit_is_dated_on_its_location_s_clock(app, client, organisation, location, submitted,
                                                   local_day):
    role = "manager" if location == "N1" else "manager_s"
    audit = submit(client, organisation, role=role, location=location, at=submitted)
    with app.app_context():
        assert db.session.get(Audit, uuid.UUID(audit["id"])).local_date.isoformat() == local_day


def test_worked_examples_through_the_api(client, organisation):
    location = organisation.locations["N1"]
    cases = [
        ({"greeted_within_5s": {"value": False}}, 80.0, True),
        ({"queue_managed": {"value": "na"}}, 100.0, False),
        ({"overall_impression": {"value": 3}}, 93.3, False),
    ]
    for change, percent, critical in cases:
        r = post(client, organisation, audit_body(location, answers={**best_walk_in(), **change}))
        assert r.status_code == 201
        assert r.get_json()["score"]["percent"] == percent
        assert r.get_json()["score"]["critical_failed"] is critical
    r = post(client, organisation, audit_body(location, "call_your_own_number",
                                              answers={"answered": {"value": False}}))
    assert r.status_code == 201
    assert r.get_json()["score"] | {"sections": None} == {
        "percent": 0.0, "points": 0.0, "max_points": 3.0, "critical_failed": True,
        "failed_items": ["answered"], "sections": None}


def test_phone_audit_with_comments(app, client, organisation):
    answers = {**best_phone(), "not_my_department": {"value": True, "comment": "Sent me to HQ"}}
    r = post(client, organisation, audit_body(organisation.locations["N1"], "call_your_own_number",
                                              answers=answers))
    assert r.status_code == 201
    audit = r.get_json()
    assert audit["score"]["failed_items"] == ["not_my_department"]
    assert audit["answers"]["not_my_department"]["comment"] == "Sent me to HQ"
    # What the reports count failures by: the items that scored (not the N/A warm
    # transfer, the text or the unscored call length), 1 for the one that failed.
    with app.app_context():
        stored = db.session.get(Audit, uuid.UUID(audit["id"]))
        assert stored.scored_items == {
            "answered": 0, "rings_to_answer": 0, "menu_easy": 0, "greeting_business_name": 0,
            "greeting_own_name": 0, "courtesy": 0, "reached_person": 0, "transfers": 0,
            "hold_seconds": 0, "not_my_department": 1, "owned": 0, "follow_up_promised": 0,
            "useful": 0}


def test_replay_returns_the_stored_audit(app, client, organisation):
    body = audit_body(organisation.locations["N1"])
    first = post(client, organisation, body)
    # Same instant written in another time zone is the same content.
    moved = dict(body, started_at=datetime.fromisoformat(body["started_at"]).astimezone(
        timezone(timedelta(hours=-6))).isoformat())
    again = post(client, organisation, moved)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.get_json() == first.get_json()
    assert count_rows(app) == (1, 10)


@pytest.mark.parametrize("role", ["admin", "regional", "manager"])
def test_what_is_stored_reads_back_as_it_was_answered(client, organisation, role):
    """The answers go to the database in one statement (PostgreSQL) or one executemany
    (SQLite): every kind of value, the N/A, the comments and the scores read back as sent."""
    answers = {**best_phone(), "menu_easy": {"value": "na"}, "hold_seconds": {"value": 42.5},
               "rings_to_answer": {"value": 4, "comment": 'Tard\u00f3 "bastante" \u2014 4 tonos'},
               "first_impression": {"value": "L\u00ednea 1\nL\u00ednea 2 \\ fin"},
               "owned": {"value": False, "comment": ""}}
    body = audit_body(organisation.locations["N1"], "call_your_own_number", answers=answers)
    stored = post(client, organisation, body, role=role)
    assert stored.status_code == 201
    read = client.get(f"/api/v1/audits/{body['id']}", headers=organisation.headers(role))
    assert read.status_code == 200
    assert read.get_json() == stored.get_json()
    got = stored.get_json()["answers"]
    assert got["menu_easy"]["value"] == "na" and got["menu_easy"]["max_points"] is None
    assert got["hold_seconds"]["value"] == 42.5 and got["hold_seconds"]["points"] == 0.5
    assert got["owned"] == {"value": False, "comment": "", "applies": True, "points": 0.0,
                            "max_points": 3.0, "failed": True, "photo_missing": False}
    assert got["rings_to_answer"]["comment"] == answers["rings_to_answer"]["comment"]
    assert got["first_impression"]["value"] == answers["first_impression"]["value"]
    assert got["answered"]["value"] is True


def test_replay_with_other_content_is_409(app, client, organisation):
    body = audit_body(organisation.locations["N1"])
    assert post(client, organisation, body).status_code == 201
    changed = dict(body, answers={**best_walk_in(), "smile": {"value": False}})
    r = post(client, organisation, changed)
    assert r.status_code == 409
    assert r.get_json()["error"]["code"] == "conflict"
    assert count_rows(app) == (1, 10)


def test_concurrent_replays_create_exactly_one_audit(app, organisation):
    body = audit_body(organisation.locations["N1"])
    headers = organisation.headers("manager")
    barrier = threading.Barrier(20)
    statuses = []

    def submit():
        client = app.test_client()
        barrier.wait()
        statuses.append(client.post("/api/v1/audits", json=body, headers=headers).status_code)

    threads = [threading.Thread(target=submit) for _ in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(statuses) == [200] * 19 + [201]
    assert count_rows(app) == (1, 10)


def test_submit_against_an_explicit_version(client, organisation):
    version = client.get("/api/v1/checklists/five_second_walk_in",
                         headers=organisation.headers("manager")).get_json()["version"]
    body = audit_body(organisation.locations["N1"], checklist_version=version)
    r = post(client, organisation, body)
    assert r.status_code == 201 and r.get_json()["checklist_version"] == version
    unknown = audit_body(organisation.locations["N1"], checklist_version="0000000000000000")
    r = post(client, organisation, unknown)
    assert r.status_code == 422
    assert "checklist_version" in r.get_json()["error"]["fields"]


def without(answers, item_id):
    return {k: v for k, v in answers.items() if k != item_id}


BAD_ANSWERS = [
    ("unknown item", {**best_walk_in(), "rainbow": {"value": True}}, "answers.rainbow"),
    ("missing required", without(best_walk_in(), "smile"), "answers.smile"),
    ("missing required text", without(best_walk_in(), "first_noticed"), "answers.first_noticed"),
    ("blank required text", {**best_walk_in(), "first_noticed": {"value": "  "}}, "answers.first_noticed"),
    ("wrong type", {**best_walk_in(), "smile": {"value": "yes"}}, "answers.smile"),
    ("number for yes/no", {**best_walk_in(), "smile": {"value": 1}}, "answers.smile"),
    ("rating out of range", {**best_walk_in(), "overall_impression": {"value": 6}}, "answers.overall_impression"),
    ("rating not whole", {**best_walk_in(), "overall_impression": {"value": 2.5}}, "answers.overall_impression"),
    ("na not allowed", {**best_walk_in(), "smile": {"value": "na"}}, "answers.smile"),
    ("not an object", {**best_walk_in(), "smile": True}, "answers.smile"),
    ("extra key", {**best_walk_in(), "smile": {"value": True, "photo": "x"}}, "answers.smile.photo"),
    ("no value", {**best_walk_in(), "smile": {"comment": "x"}}, "answers.smile.value"),
    ("null value", {**best_walk_in(), "smile": {"value": None}}, "answers.smile.value"),
    ("list value", {**best_walk_in(), "smile": {"value": [True]}}, "answers.smile.value"),
    ("comment not text", {**best_walk_in(), "smile": {"value": True, "comment": 5}},
     "answers.smile.comment"),
    ("NUL in a comment", {**best_walk_in(), "smile": {"value": True, "comment": "a\x00b"}},
     "answers.smile.comment"),
    ("NUL in a text", {**best_walk_in(), "first_noticed": {"value": "a\x00b"}},
     "answers.first_noticed.value"),
    ("comment too long", {**best_walk_in(), "smile": {"value": True, "comment": "x" * 1001}},
     "answers.smile.comment"),
    ("text too long", {**best_walk_in(), "first_noticed": {"value": "x" * 2001}},
     "answers.first_noticed.value"),
]
BAD_PHONE_ANSWERS = [
    ("negative count", {**best_phone(), "rings_to_answer": {"value": -1}}, "answers.rings_to_answer"),
    ("count too large", {**best_phone(), "rings_to_answer": {"value": 101}}, "answers.rings_to_answer"),
    ("fractional count", {**best_phone(), "transfers": {"value": 1.5}}, "answers.transfers"),
    ("boolean count", {**best_phone(), "transfers": {"value": True}}, "answers.transfers"),
    ("negative seconds", {**best_phone(), "hold_seconds": {"value": -3}}, "answers.hold_seconds"),
    ("missing when answered", without(best_phone(), "owned"), "answers.owned"),
]


@pytest.mark.parametrize("name,answers,field", BAD_ANSWERS, ids=[c[0] for c in BAD_ANSWERS])
def test_bad_walk_in_answers_are_422_and_write_nothing(app, client, organisation, name, answers, field):
    r = post(client, organisation, audit_body(organisation.locations["N1"], answers=answers))
    assert r.status_code == 422, r.get_json()
    error = r.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert count_rows(app) == (0, 0)


@pytest.mark.parametrize("name,answers,field", BAD_PHONE_ANSWERS, ids=[c[0] for c in BAD_PHONE_ANSWERS])
def test_bad_phone_answers_are_422(app, client, organisation, name, answers, field):
    body = audit_body(organisation.locations["N1"], "call_your_own_number", answers=answers)
    r = post(client, organisation, body)
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]
    assert count_rows(app) == (0, 0)


def test_unanswered_call_needs_no_other_answers(client, organisation):
    body = audit_body(organisation.locations["N1"], "call_your_own_number",
                      answers={"answered": {"value": False}})
    assert post(client, organisation, body).status_code == 201


@pytest.mark.parametrize("change,field", [
    ({"id": "not-a-uuid"}, "id"),
    ({"location_id": "1"}, "location_id"),
    ({"checklist_id": "no_such_checklist"}, "checklist_id"),
    ({"started_at": "yesterday"}, "started_at"),
    ({"started_at": "2026-01-01T10:00:00"}, "started_at"),  # no time zone
    ({"answers": []}, "answers"),
    ({"notes": "x" * 5001}, "notes"),
    ({"unexpected": 1}, "unexpected"),
])
def test_bad_fields_are_422_with_their_path(app, client, organisation, change, field):
    body = {**audit_body(organisation.locations["N1"]), **change}
    r = post(client, organisation, body)
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    assert count_rows(app) == (0, 0)


def test_missing_fields_are_named(client, organisation):
    r = post(client, organisation, {"answers": {}})
    fields = r.get_json()["error"]["fields"]
    assert r.status_code == 422
    assert {"id", "location_id", "checklist_id", "started_at", "submitted_at"} <= set(fields)


def test_times_must_make_sense(client, organisation):
    now = datetime.now(timezone.utc)
    backwards = audit_body(organisation.locations["N1"], started_at=now.isoformat(),
                           submitted_at=(now - timedelta(minutes=1)).isoformat())
    future = audit_body(organisation.locations["N1"], started_at=(now + timedelta(days=3)).isoformat(),
                        submitted_at=(now + timedelta(days=3, minutes=1)).isoformat())
    for body in (backwards, future):
        r = post(client, organisation, body)
        assert r.status_code == 422 and "submitted_at" in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("role, location", [
    ("manager", "S1"), ("manager", None), ("regional", "S1"), ("admin", None)])
def test_unknown_or_out_of_scope_location_is_the_same_422(app, client, organisation, role, location):
    location_id = organisation.locations[location] if location else 999999
    r = post(client, organisation, audit_body(location_id), role=role)
    assert r.status_code == 422
    assert r.get_json()["error"]["fields"] == {"location_id": ["Unknown location."]}
    assert count_rows(app) == (0, 0)


def test_malformed_json_is_400(client, organisation):
    r = client.post("/api/v1/audits", data="{not json", content_type="application/json",
                    headers=organisation.headers("manager"))
    assert r.status_code == 400
    assert r.get_json()["error"]["code"] == "bad_request"


@pytest.mark.parametrize("change", [
    ('"comment": "x"', '"comment": "\\ud800"'),  # a lone surrogate: not Unicode text
    ('"notes": "x"', '"notes": "caf\\udce9"'),
    ('"value": true', '"value": NaN'),
    ('"value": true', '"value": 1e999'),
])
def test_json_that_is_not_valid_text_or_numbers_is_400(app, client, organisation, change):
    """The database would refuse such text later: the API says so at the door."""
    answers = {**best_walk_in(), "smile": {"value": True, "comment": "x"}}
    body = json.dumps(audit_body(organisation.locations["N1"], answers=answers, notes="x"))
    assert change[0] in body
    r = client.post("/api/v1/audits", data=body.replace(change[0], change[1], 1),
                    content_type="application/json", headers=organisation.headers("manager"))
    assert r.status_code == 400
    assert r.get_json()["error"]["message"] == "The request body is not valid JSON."
    assert count_rows(app) == (0, 0)


def test_wrong_content_type_is_415(client, organisation):
    r = client.post("/api/v1/audits", data=json.dumps(audit_body(organisation.locations["N1"])),
                    content_type="text/plain", headers=organisation.headers("manager"))
    assert r.status_code == 415
    assert r.get_json()["error"]["code"] == "unsupported_media_type"


def test_oversized_body_is_413(app, client, organisation):
    body = audit_body(organisation.locations["N1"], notes="x" * (app.config["MAX_JSON_BYTES"] + 10))
    r = post(client, organisation, body)
    assert r.status_code == 413
    assert r.get_json()["error"]["code"] == "payload_too_large"
    assert count_rows(app) == (0, 0)


def test_unauthenticated_is_401(client, organisation):
    r = client.post("/api/v1/audits", json=audit_body(organisation.locations["N1"]))
    assert r.status_code == 401
    assert r.get_json()["error"]["code"] == "unauthorized"
    r = client.get("/api/v1/audits", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401


def submit_everywhere(client, organisation):
    """One audit per location, each by the admin; returns {location code: audit id}."""
    ids = {}
    for code, location_id in organisation.locations.items():
        body = audit_body(location_id)
        assert post(client, organisation, body, role="admin").status_code == 201
        ids[code] = body["id"]
    return ids


@pytest.mark.parametrize("role,visible", [
    ("admin", {"N1", "N2", "S1"}), ("regional", {"N1", "N2"}),
    ("manager", {"N1"}), ("manager_s", {"S1"}),
])
def test_each_role_sees_only_its_scope(client, organisation, role, visible):
    ids = submit_everywhere(client, organisation)
    headers = organisation.headers(role)
    listed = client.get("/api/v1/audits", headers=headers).get_json()
    assert {item["id"] for item in listed["items"]} == {ids[c] for c in visible}
    assert listed["total"] == len(visible)
    for code, audit_id in ids.items():
        r = client.get(f"/api/v1/audits/{audit_id}", headers=headers)
        assert r.status_code == (200 if code in visible else 404)
    locations = client.get("/api/v1/locations", headers=headers).get_json()
    assert {loc["code"] for loc in locations} == visible


def test_regional_and_manager_may_submit_only_in_scope(client, organisation):
    assert post(client, organisation, audit_body(organisation.locations["N2"]),
                role="regional").status_code == 201
    assert post(client, organisation, audit_body(organisation.locations["S1"]),
                role="regional").status_code == 422
    assert post(client, organisation, audit_body(organisation.locations["N2"]),
                role="manager").status_code == 422


def test_replaying_someone_elses_id_out_of_scope_is_409_without_details(client, organisation):
    body = audit_body(organisation.locations["S1"])
    assert post(client, organisation, body, role="manager_s").status_code == 201
    r = post(client, organisation, dict(body, location_id=organisation.locations["N1"]))
    assert r.status_code == 409
    assert "S1" not in json.dumps(r.get_json())


def test_list_filters_and_pagination(client, organisation):
    headers = organisation.headers("admin")
    now = datetime.now(timezone.utc)
    for days_ago in range(5):
        started = now - timedelta(days=days_ago, minutes=5)
        for checklist in ("five_second_walk_in", "call_your_own_number"):
            body = audit_body(organisation.locations["N1"], checklist,
                              started_at=started.isoformat(),
                              submitted_at=(started + timedelta(minutes=2)).isoformat())
            assert post(client, organisation, body, role="admin").status_code == 201
    assert post(client, organisation, audit_body(organisation.locations["S1"]), role="admin").status_code == 201

    page = client.get("/api/v1/audits?per_page=4&page=2", headers=headers).get_json()
    assert (page["page"], page["per_page"], page["total"], len(page["items"])) == (2, 4, 11, 4)
    everything = client.get("/api/v1/audits?per_page=100", headers=headers).get_json()["items"]
    times = [a["submitted_at"] for a in everything]
    assert times == sorted(times, reverse=True)

    def total(query):
        r = client.get("/api/v1/audits?" + query, headers=headers)
        assert r.status_code == 200, r.get_json()
        return r.get_json()["total"]

    assert total(f"location_id={organisation.locations['N1']}") == 10
    assert total("checklist_id=call_your_own_number") == 5
    since = (now - timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert total(f"since={since}&location_id={organisation.locations['N1']}") == 6
    until = (now - timedelta(days=2, hours=1)).strftime("%Y-%m-%dT%H:%M:%S")  # naive means UTC
    assert total(f"until={until}") == 4


@pytest.mark.parametrize("query,field", [
    ("per_page=0", "per_page"), ("page=0", "page"), ("page=x", "page"),
    ("since=tuesday", "since"), ("location_id=abc", "location_id"),
    # What the database cannot hold or would refuse: 422, not a 500.
    ("checklist_id=%00", "checklist_id"), ("location_id=2147483648", "location_id"),
    ("location_id=9223372036854775808", "location_id"),
    ("location_id=12345678901234567890", "location_id"), ("since=0001-01-01T00:00:00Z", "since"),
])
def test_bad_list_queries_are_422(client, organisation, query, field):
    r = client.get("/api/v1/audits?" + query, headers=organisation.headers("admin"))
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


def test_per_page_is_capped(app, client, organisation):
    r = client.get("/api/v1/audits?per_page=100000", headers=organisation.headers("admin"))
    assert r.get_json()["per_page"] == app.config["PER_PAGE_MAX"]


def test_unknown_audit_is_404(client, organisation):
    headers = organisation.headers("admin")
    assert client.get(f"/api/v1/audits/{uuid.uuid4()}", headers=headers).status_code == 404
    r = client.get("/api/v1/audits/not-a-uuid", headers=headers)
    assert r.status_code == 404 and r.get_json()["error"]["code"] == "not_found"


def test_an_audit_keeps_the_checklist_version_it_was_filled_against(app, client, organisation):
    """A changed checklist file is a new version; audits of the old one keep its scoring."""
    from audit_server.models import ChecklistVersion
    from audit_server.services.checklists import content_version, current_checklist

    with app.app_context():
        old = json.loads(json.dumps(current_checklist("five_second_walk_in").definition))
        old["sections"][0]["items"][2]["weight"] = 5  # smile weighed more in the old version
        old_version = content_version(old)
        db.session.add(ChecklistVersion(checklist_id="five_second_walk_in", version=old_version,
                                        kind="walk_in", definition=old))
        db.session.commit()
    answers = {**best_walk_in(), "smile": {"value": False}}
    on_old = post(client, organisation, audit_body(organisation.locations["N1"], answers=answers,
                                                   checklist_version=old_version)).get_json()
    on_current = post(client, organisation, audit_body(organisation.locations["N1"],
                                                       answers=answers)).get_json()
    assert on_old["checklist_version"] == old_version
    assert on_old["score"]["percent"] == 72.2  # 13 of 18
    assert on_current["score"]["percent"] == 86.7  # 13 of 15
    stored = client.get(f"/api/v1/audits/{on_old['id']}", headers=organisation.headers("manager"))
    assert stored.get_json()["score"]["percent"] == 72.2
    old_definition = client.get(f"/api/v1/checklists/five_second_walk_in?version={old_version}",
                                headers=organisation.headers("manager")).get_json()
    assert old_definition["definition"]["sections"][0]["items"][2]["weight"] == 5
