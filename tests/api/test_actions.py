"""Corrective actions through the API: opened by failures, owned, followed until verified."""
import io
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from audit_server.extensions import db
from audit_server.models import ActionEvent, Audit, CorrectiveAction
from audit_server.models.actions import action_audits
from audit_server.services import actions as action_service
from tests.helpers import (
    WALK_IN,
    audit_body,
    built_in_checklist,
    built_in_without,
    checklist_folder,
    failing,
    set_columns,
    submit,
)
from tests.photo_samples import small_jpeg

ACTIONS = "/api/v1/actions"


def action_for(client, organisation, audit, item_id, role="admin"):
    action_id = next(a["id"] for a in audit["actions"] if a["item_id"] == item_id)
    r = client.get(f"{ACTIONS}/{action_id}", headers=organisation.headers(role))
    assert r.status_code == 200, r.get_json()
    return r.get_json()


def patch(client, organisation, action, role="manager", **change):
    body = {"version": action["version"], **change}
    return client.patch(f"{ACTIONS}/{action['id']}", json=body, headers=organisation.headers(role))


def action_rows(app):
    """The stored actions, with their audits and events, read in a context of their own."""
    with app.app_context():
        return db.session.scalars(sa.select(CorrectiveAction).order_by(CorrectiveAction.id).options(
            selectinload(CorrectiveAction.audits), selectinload(CorrectiveAction.events))).all()


def count_rows(app, table):
    with app.app_context():
        return db.session.scalar(sa.select(sa.func.count()).select_from(table))


def upload_after_photo(client, organisation, action, role="manager", photo_id=None, **form):
    """POST an "after" photo of the fix to an action."""
    data = {"id": str(photo_id or uuid.uuid4()), "photo": (io.BytesIO(small_jpeg()), "after.jpg"),
            **form}
    return client.post(f"{ACTIONS}/{action['id']}/photos", data=data,
                       content_type="multipart/form-data", headers=organisation.headers(role))


def kinds(action):
    return [e["kind"] for e in action["timeline"]]


# --- opening ---------------------------------------------------------------

def test_each_failed_item_opens_one_action(client, organisation):
    audit = submit(client, organisation, answers=failing("greeted_within_5s", "floor_clean"))
    assert sorted((a["item_id"], a["status"]) for a in audit["actions"]) == [
        ("floor_clean", "open"), ("greeted_within_5s", "open")]

    submitted = datetime.fromisoformat(audit["submitted_at"])
    greeted = action_for(client, organisation, audit, "greeted_within_5s")
    assert greeted["audit_id"] == audit["id"]
    assert greeted["location_id"] == organisation.locations["N1"]
    assert greeted["checklist_id"] == WALK_IN
    assert greeted["title"] == {"es": "Saludar a cada cliente en los primeros cinco segundos",
                                "en": "Greet every customer within five seconds"}
    assert greeted["owner"] == {"id": organisation.ids["manager"], "email": "manager@example.com",
                                "name": ""}
    assert greeted["critical"] is True and greeted["photo_required"] is False
    assert datetime.fromisoformat(greeted["due_at"]) == submitted + timedelta(hours=24)
    assert greeted["overdue"] is False
    assert greeted["version"] == 1 and greeted["repeat_count"] == 0
    assert greeted["allowed_moves"] == ["in_progress", "done"]
    assert greeted["audits"] == [{"id": audit["id"], "submitted_at": audit["submitted_at"]}]
    assert [(e["kind"], e["to"], e["audit_id"], e["actor"]["id"]) for e in greeted["timeline"]] == [
        ("opened", "open", audit["id"], organisation.ids["manager"])]

    floor = action_for(client, organisation, audit, "floor_clean")
    assert floor["critical"] is False and floor["photo_required"] is True
    due_local = datetime.fromisoformat(floor["due_local"])
    assert (due_local.hour, due_local.minute, due_local.second) == (23, 59, 59)
    assert due_local.utcoffset() == timedelta(hours=1)  # Madrid in winter
    assert due_local.date() == (submitted + timedelta(days=7)).astimezone(due_local.tzinfo).date()


def test_an_action_is_titled_with_its_items_task_else_its_label_and_keeps_its_title(
        client, organisation, make_app, tmp_path):
    floor = action_for(client, organisation, submit(client, organisation, answers=failing("floor_clean")),
                       "floor_clean")
    assert floor["title"] == {"es": "Limpiar y secar el suelo de la entrada", "en": "Clean and dry the entrance floor"}

    # A checklist whose items say no task: its actions are titled with the question.
    plain = built_in_without(WALK_IN, "action_title")
    other = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "plain", plain))).test_client()
    audit = submit(other, organisation, role="regional", location="N2", answers=failing("smile"))
    smile = action_for(other, organisation, audit, "smile")
    assert smile["title"] == {"es": "¿Te recibieron con una sonrisa?", "en": "Were you welcomed with a smile?"}

    # The task reworded in a later version: the open action keeps the title it was opened with,
    # and a failure of the new version links to it without retitling it.
    reworded = built_in_checklist(WALK_IN)
    floor_item = next(i for i in reworded["sections"][0]["items"] if i["id"] == "floor_clean")
    floor_item["action_title"] = {"es": "Fregar la entrada ✨", "en": "Mop the entrance ✨"}
    later = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "reworded", reworded))).test_client()
    again = submit(later, organisation, answers=failing("floor_clean"))
    relinked = action_for(later, organisation, again, "floor_clean")
    assert relinked["id"] == floor["id"] and relinked["repeat_count"] == 1
    assert relinked["title"] == floor["title"]
    elsewhere = submit(later, organisation, role="regional", location="N2", answers=failing("floor_clean"))
    fresh = action_for(later, organisation, elsewhere, "floor_clean")
    assert fresh["title"] == {"es": "Fregar la entrada ✨", "en": "Mop the entrance ✨"}


def test_the_audit_and_its_actions_are_stored_together_or_not_at_all(app, client, organisation,
                                                                    monkeypatch):
    def broken(*_args):
        raise RuntimeError("the owner lookup failed")

    monkeypatch.setattr(action_service, "default_owner_id", broken)
    body = audit_body(organisation.locations["N1"], WALK_IN, failing("smile", "floor_clean"))
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 500
    assert r.get_json()["error"]["code"] == "internal_error"
    assert count_rows(app, Audit) == 0
    assert action_rows(app) == []


def test_actions_that_keep_changing_are_a_503_to_retry_and_store_nothing(app, client, organisation,
                                                                         monkeypatch):
    """Another audit of the location changing the same actions, every time: the phone is
    told to send it again later (its outbox retries a 503), not that the audit is wrong."""
    import audit_server.services.audits as audit_service

    def always_clashing(*_args):
        raise sa.exc.IntegrityError("INSERT INTO corrective_actions", {}, Exception("taken"))

    monkeypatch.setattr(audit_service, "follow_up_audit", always_clashing)
    body = audit_body(organisation.locations["N1"], WALK_IN, failing("smile"))
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 503, r.get_json()
    assert r.headers["Retry-After"] == "1"
    assert r.get_json()["error"]["code"] == "unavailable"
    assert count_rows(app, Audit) == 0
    monkeypatch.undo()
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 201


def test_a_passing_audit_opens_nothing(app, client, organisation):
    audit = submit(client, organisation)
    assert audit["actions"] == []
    assert action_rows(app) == []


def test_the_owner_is_the_manager_else_the_auditor(client, organisation):
    # N2 has no manager: the regional manager who audited it owns the action.
    at_n2 = submit(client, organisation, "regional", "N2", failing("smile"))
    assert action_for(client, organisation, at_n2, "smile")["owner"]["id"] == \
        organisation.ids["regional"]
    # S1's manager owns S1's actions even when an admin audits.
    at_s1 = submit(client, organisation, "admin", "S1", failing("smile"))
    assert action_for(client, organisation, at_s1, "smile")["owner"]["id"] == \
        organisation.ids["manager_s"]


def test_a_replayed_audit_opens_its_actions_once(app, client, organisation):
    body = audit_body(organisation.locations["N1"], WALK_IN, failing("smile", "floor_clean"))
    headers = organisation.headers("manager")
    assert client.post("/api/v1/audits", json=body, headers=headers).status_code == 201
    replay = client.post("/api/v1/audits", json=body, headers=headers)
    assert replay.status_code == 200
    assert len(replay.get_json()["actions"]) == 2
    assert len(action_rows(app)) == 2
    assert count_rows(app, action_audits) == 2


def run_together(app, count, send):
    """Call send(client) from `count` threads at once; their results."""
    barrier = threading.Barrier(count)
    results = []

    def worker(n):
        client = app.test_client()
        barrier.wait()
        results.append(send(client, n))

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_concurrent_replays_open_each_action_exactly_once(app, organisation):
    body = audit_body(organisation.locations["N1"], WALK_IN,
                      failing("greeted_within_5s", "smile", "floor_clean"))
    headers = organisation.headers("manager")
    statuses = run_together(app, 8, lambda client, _: client.post(
        "/api/v1/audits", json=body, headers=headers).status_code)
    assert sorted(statuses) == [200] * 7 + [201]
    assert sorted(a.item_id for a in action_rows(app)) == [
        "floor_clean", "greeted_within_5s", "smile"]
    assert count_rows(app, ActionEvent) == 3


def test_concurrent_audits_failing_the_same_item_share_one_action(app, organisation):
    headers = organisation.headers("manager")
    bodies = [audit_body(organisation.locations["N1"], WALK_IN, failing("smile")) for _ in range(6)]
    statuses = run_together(app, 6, lambda client, n: client.post(
        "/api/v1/audits", json=bodies[n], headers=headers).status_code)
    assert statuses == [201] * 6
    [action] = action_rows(app)
    assert action.repeat_count == 5
    assert len(action.audits) == 6
    assert [e.kind for e in action.events] == ["opened"] + ["linked_audit"] * 5


# --- the status machine and closing ----------------------------------------

def test_status_moves_record_the_timeline(client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    r = patch(client, organisation, action, status="in_progress")
    assert r.status_code == 200, r.get_json()
    action = r.get_json()
    assert action["status"] == "in_progress" and action["version"] == 2
    r = patch(client, organisation, action, status="done", note="Talked to the team.")
    assert r.status_code == 200, r.get_json()
    action = r.get_json()
    assert action["status"] == "done" and action["closed_at"] is not None
    assert action["allowed_moves"] == ["reopened"]  # the manager may not verify
    assert [(e["kind"], e["from"], e["to"], e["note"]) for e in action["timeline"][1:]] == [
        ("status", "open", "in_progress", ""),
        ("status", "in_progress", "done", "Talked to the team."),
    ]


@pytest.mark.parametrize("role, moves", [
    ("manager", ["reopened"]), ("regional", ["verified", "reopened"]),
    ("admin", ["verified", "reopened"])])
def test_allowed_moves_are_those_of_who_asks(client, organisation, role, moves):
    """The API offers the moves the page offers: only those this user may make."""
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    assert action["allowed_moves"] == ["in_progress", "done"]
    done = patch(client, organisation, action, status="done", note="Fixed.").get_json()
    assert action_for(client, organisation, audit, "smile", role)["allowed_moves"] == moves
    listed = client.get(ACTIONS, headers=organisation.headers(role)).get_json()["items"]
    assert [a["allowed_moves"] for a in listed if a["id"] == done["id"]] == [moves]


@pytest.mark.parametrize("moves, wanted, allowed", [
    ([], "verified", "in_progress, done"),
    ([], "reopened", "in_progress, done"),
    ([("in_progress", None)], "open", "done"),
    ([("done", "Fixed.")], "in_progress", "verified, reopened"),
])
def test_illegal_moves_are_422_naming_the_allowed_moves(client, organisation, moves, wanted,
                                                        allowed):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    for status, note in moves:
        action = patch(client, organisation, action, status=status,
                       **({"note": note} if note else {})).get_json()
    r = patch(client, organisation, action, status=wanted, note="Trying.")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["code"] == "validation_error"
    assert error["message"].endswith(f"it can move to: {allowed}.")
    assert error["fields"] == {"status": [error["message"]]}


def test_a_verified_action_is_final(client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    action = patch(client, organisation, action, status="done", note="Fixed.").get_json()
    action = patch(client, organisation, action, "regional", status="verified").get_json()
    assert action["status"] == "verified" and action["allowed_moves"] == []
    r = patch(client, organisation, action, "admin", status="reopened", note="Not really.")
    assert r.status_code == 422
    assert r.get_json()["error"]["message"] == \
        "A verified action is final: its status cannot change."


def test_closing_needs_a_note(app, client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    for body in ({}, {"note": "   "}):
        r = patch(client, organisation, action, status="done", **body)
        assert r.status_code == 422
        assert "note" in r.get_json()["error"]["fields"]
    assert action_rows(app)[0].status == "open"


def test_closing_a_photo_item_needs_an_after_photo(app, client, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean"))
    action = action_for(client, organisation, audit, "floor_clean")
    r = patch(client, organisation, action, status="done", note="Mopped.")
    assert r.status_code == 422
    error = r.get_json()["error"]
    assert error["message"] == \
        'This item needs an "after" photo of the fix before the action can be done.'
    assert list(error["fields"]) == ["after_photo"]
    assert action_rows(app)[0].status == "open"

    assert upload_after_photo(client, organisation, action).status_code == 201
    action = action_for(client, organisation, audit, "floor_clean")
    assert action["has_after_photo"] is True
    r = patch(client, organisation, action, status="done", note="Mopped.")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "done"


def test_reopening_needs_a_note_and_clears_the_after_photo(app, client, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean"))
    upload_after_photo(client, organisation, action_for(client, organisation, audit, "floor_clean"))
    action = action_for(client, organisation, audit, "floor_clean")
    action = patch(client, organisation, action, status="done", note="Mopped.").get_json()
    assert patch(client, organisation, action, "regional", status="reopened").status_code == 422
    r = patch(client, organisation, action, "regional", status="reopened", note="Still sticky.")
    assert r.status_code == 200
    action = r.get_json()
    assert action["status"] == "reopened" and action["closed_at"] is None
    assert action["has_after_photo"] is False

    with app.app_context():
        first_done = db.session.get(CorrectiveAction, action["id"]).first_done_at
    assert first_done is not None
    upload_after_photo(client, organisation, action)
    action = action_for(client, organisation, audit, "floor_clean")
    assert patch(client, organisation, action, status="done", note="Mopped again.").status_code == 200
    with app.app_context():
        # Reports time the fix by its first move to done (REPORTS: time to close).
        assert db.session.get(CorrectiveAction, action["id"]).first_done_at == first_done


def test_a_comment_alone_is_a_note_on_the_timeline(client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    r = patch(client, organisation, action, note="Training booked for Monday.")
    assert r.status_code == 200
    action = r.get_json()
    assert action["status"] == "open" and action["version"] == 2
    assert action["timeline"][-1]["kind"] == "note"
    assert action["timeline"][-1]["note"] == "Training booked for Monday."


def test_a_stale_version_is_409(app, client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    read = action_for(client, organisation, audit, "smile")
    assert patch(client, organisation, read, note="First.").status_code == 200
    r = patch(client, organisation, read, status="in_progress")
    assert r.status_code == 409
    error = r.get_json()["error"]
    assert error["code"] == "conflict"
    assert "version 2" in error["message"]
    assert action_rows(app)[0].status == "open"


def test_concurrent_changes_of_one_version_let_one_through(app, client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action_id = audit["actions"][0]["id"]
    headers = organisation.headers("manager")
    statuses = run_together(app, 4, lambda c, n: c.patch(
        f"{ACTIONS}/{action_id}", json={"version": 1, "note": f"Comment {n}"},
        headers=headers).status_code)
    assert sorted(statuses) == [200, 409, 409, 409]
    [row] = action_rows(app)
    assert row.version == 2
    assert [e.kind for e in row.events] == ["opened", "note"]


def test_the_timeline_is_never_rewritten(app, client, organisation):
    submit(client, organisation, answers=failing("smile"))
    with app.app_context():
        event = db.session.scalars(sa.select(ActionEvent)).one()
        event.note = "rewritten"
        with pytest.raises(ValueError, match="history"):
            db.session.commit()
        db.session.rollback()
        db.session.delete(db.session.scalars(sa.select(ActionEvent)).one())
        with pytest.raises(ValueError, match="history"):
            db.session.commit()
        db.session.rollback()
    assert action_rows(app)[0].events[0].note == ""


# --- reassigning ---------------------------------------------------------------

def test_reassigning_needs_a_reason_and_a_valid_owner(app, client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    regional = organisation.ids["regional"]
    for body, field in [
        ({"owner_id": regional}, "reason"),
        ({"owner_id": regional, "reason": "  "}, "reason"),
        ({"owner_id": organisation.ids["manager_s"], "reason": "S1's manager"}, "owner_id"),
        ({"owner_id": 999_999, "reason": "Nobody"}, "owner_id"),
        ({"owner_id": organisation.ids["manager"], "reason": "Already theirs"}, "owner_id"),
    ]:
        r = patch(client, organisation, action, **body)
        assert r.status_code == 422, body
        assert field in r.get_json()["error"]["fields"], body
    assert action_rows(app)[0].owner_id == organisation.ids["manager"]


def test_the_new_owner_sees_a_reassigned_action_at_once(client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    action = action_for(client, organisation, audit, "smile")
    mine = client.get(f"{ACTIONS}?owner=me", headers=organisation.headers("regional")).get_json()
    assert mine["total"] == 0
    r = patch(client, organisation, action, owner_id=organisation.ids["regional"],
              reason="Needs a budget decision.")
    assert r.status_code == 200, r.get_json()
    action = r.get_json()
    assert action["owner"]["id"] == organisation.ids["regional"]
    assert [(e["kind"], e["from"], e["to"], e["note"]) for e in action["timeline"][1:]] == [
        ("reassigned", str(organisation.ids["manager"]), str(organisation.ids["regional"]),
         "Needs a budget decision.")]
    mine = client.get(f"{ACTIONS}?owner=me", headers=organisation.headers("regional")).get_json()
    assert [a["id"] for a in mine["items"]] == [action["id"]]


# --- repeated failures and verification ------------------------------------------

def test_a_repeated_failure_is_linked_not_duplicated(app, client, organisation):
    earlier = datetime.now(timezone.utc) - timedelta(hours=2)
    first = submit(client, organisation, answers=failing("smile"), at=earlier)
    second = submit(client, organisation, answers=failing("smile", "floor_clean"))
    [action_row] = [a for a in action_rows(app) if a.item_id == "smile"]
    assert len(action_rows(app)) == 2
    assert [a["id"] for a in second["actions"] if a["item_id"] == "smile"] == [action_row.id]
    action = action_for(client, organisation, first, "smile")
    assert action["repeat_count"] == 1
    assert [a["id"] for a in action["audits"]] == [first["id"], second["id"]]
    assert kinds(action) == ["opened", "linked_audit"]
    assert action["timeline"][-1]["audit_id"] == second["id"]
    listed = client.get(f"{ACTIONS}?audit_id={second['id']}",
                        headers=organisation.headers("manager")).get_json()
    assert sorted(a["item_id"] for a in listed["items"]) == ["floor_clean", "smile"]


def test_failing_again_reopens_a_done_action(client, organisation):
    first = submit(client, organisation, answers=failing("smile"),
                   at=datetime.now(timezone.utc) - timedelta(hours=2))
    action = action_for(client, organisation, first, "smile")
    patch(client, organisation, action, status="done", note="Briefed the team.")
    # An audit made before the action was done does not reopen it...
    submit(client, organisation, answers=failing("smile"),
           at=datetime.now(timezone.utc) - timedelta(hours=1))
    assert action_for(client, organisation, first, "smile")["status"] == "done"
    # ...one made after does.
    submit(client, organisation, answers=failing("smile"), at=datetime.now(timezone.utc))
    action = action_for(client, organisation, first, "smile")
    assert action["status"] == "reopened" and action["closed_at"] is None
    assert action["repeat_count"] == 2
    assert kinds(action)[-2:] == ["linked_audit", "status"]
    assert action["timeline"][-1]["from"] == "done"


def test_a_later_pass_proposes_verification_and_its_auditor_verifies(app, client, organisation):
    first = submit(client, organisation, answers=failing("smile"),
                   at=datetime.now(timezone.utc) - timedelta(hours=2))
    action = action_for(client, organisation, first, "smile")
    action = patch(client, organisation, action, status="done", note="Briefed the team.").get_json()
    assert action["verification_proposed_by_audit_id"] is None
    passing = submit(client, organisation)
    assert passing["actions"] == []
    action = action_for(client, organisation, first, "smile")
    assert action["verification_proposed_by_audit_id"] == passing["id"]
    assert action["timeline"][-1]["kind"] == "verification_proposed"
    assert action["timeline"][-1]["audit_id"] == passing["id"]
    r = patch(client, organisation, action, status="verified")
    assert r.status_code == 200, r.get_json()
    assert r.get_json()["status"] == "verified"
    assert r.get_json()["verified_at"] is not None
    # Once verified, a new failure of the item opens a new action.
    again = submit(client, organisation, answers=failing("smile"))
    assert len(action_rows(app)) == 2
    assert again["actions"][0]["id"] != action["id"]


def test_later_passes_leave_the_standing_proposal_alone(client, organisation):
    """Daily passes while nobody has verified yet do not flood the timeline, and an
    older pass arriving late does not take the proposal from a newer one."""
    now = datetime.now(timezone.utc)
    first = submit(client, organisation, answers=failing("smile"), at=now - timedelta(hours=5))
    proposer = submit(client, organisation, at=now - timedelta(hours=3))
    submit(client, organisation, role="regional", at=now - timedelta(hours=2))
    submit(client, organisation, at=now - timedelta(hours=4))  # older, arrives last
    action = action_for(client, organisation, first, "smile")
    assert action["verification_proposed_by_audit_id"] == proposer["id"]
    assert kinds(action) == ["opened", "verification_proposed"]


def test_an_older_audit_arriving_late_proposes_nothing(client, organisation):
    first = submit(client, organisation, answers=failing("smile"))
    submit(client, organisation, at=datetime.now(timezone.utc) - timedelta(hours=3))
    action = action_for(client, organisation, first, "smile")
    assert action["verification_proposed_by_audit_id"] is None
    assert kinds(action) == ["opened"]


def test_only_a_newer_failure_withdraws_a_verification_proposal(client, organisation):
    now = datetime.now(timezone.utc)
    first = submit(client, organisation, answers=failing("smile"), at=now - timedelta(hours=3))
    passing = submit(client, organisation, at=now - timedelta(hours=1))
    submit(client, organisation, answers=failing("smile"), at=now - timedelta(hours=2))
    action = action_for(client, organisation, first, "smile")
    assert action["verification_proposed_by_audit_id"] == passing["id"]
    assert action["repeat_count"] == 1
    submit(client, organisation, answers=failing("smile"), at=now)
    action = action_for(client, organisation, first, "smile")
    assert action["verification_proposed_by_audit_id"] is None
    assert action["repeat_count"] == 2


def test_only_regional_admin_or_the_passing_auditor_verify(client, organisation):
    first = submit(client, organisation, answers=failing("smile"),
                   at=datetime.now(timezone.utc) - timedelta(hours=2))
    action = action_for(client, organisation, first, "smile")
    action = patch(client, organisation, action, status="done", note="Briefed.").get_json()
    r = patch(client, organisation, action, status="verified")
    assert r.status_code == 403
    assert r.get_json()["error"]["code"] == "forbidden"
    # A pass audited by the regional manager does not let the location manager verify either.
    submit(client, organisation, "regional")
    action = action_for(client, organisation, first, "smile")
    assert patch(client, organisation, action, status="verified").status_code == 403
    for role in ("regional", "admin"):
        assert patch(client, organisation, action, role, note="checking").status_code == 200
        action = action_for(client, organisation, first, "smile")
    assert patch(client, organisation, action, "admin", status="verified").status_code == 200


def test_the_database_allows_one_unresolved_action_per_item(app, client, organisation):
    audit = submit(client, organisation, answers=failing("smile"))
    [action] = action_rows(app)
    columns = {c.key: getattr(action, c.key) for c in CorrectiveAction.__table__.columns
               if c.key not in ("id", "version")}
    with app.app_context():
        with pytest.raises(sa.exc.IntegrityError):
            db.session.execute(sa.insert(CorrectiveAction).values(**columns, version=1))
        db.session.rollback()
    set_columns(app, action.id, status="verified")
    with app.app_context():
        db.session.execute(sa.insert(CorrectiveAction).values(**columns, version=1))
        db.session.commit()
    assert len(action_rows(app)) == 2
    assert audit["id"] == str(action.audit_id)


# --- overdue and time zones --------------------------------------------------------

def test_overdue_actions_come_first_and_filter(client, organisation):
    two_days_ago = datetime.now(timezone.utc) - timedelta(days=2)
    old = submit(client, organisation, answers=failing("greeted_within_5s", "smile"),
                 at=two_days_ago)
    new = submit(client, organisation, "manager_s", "S1", failing("greeted_within_5s"))
    overdue = action_for(client, organisation, old, "greeted_within_5s")
    assert overdue["overdue"] is True
    assert action_for(client, organisation, old, "smile")["overdue"] is False
    listing = client.get(ACTIONS, headers=organisation.headers("admin")).get_json()
    assert [(a["location_id"], a["item_id"], a["overdue"]) for a in listing["items"]] == [
        (organisation.locations["N1"], "greeted_within_5s", True),
        (organisation.locations["S1"], "greeted_within_5s", False),
        (organisation.locations["N1"], "smile", False),
    ]
    only = client.get(f"{ACTIONS}?overdue=true", headers=organisation.headers("admin")).get_json()
    assert [a["id"] for a in only["items"]] == [overdue["id"]]
    not_overdue = client.get(f"{ACTIONS}?overdue=false",
                             headers=organisation.headers("admin")).get_json()
    assert not_overdue["total"] == 2
    r = patch(client, organisation, overdue, status="done", note="Greeter at the door.")
    assert r.get_json()["overdue"] is False
    assert new["actions"][0]["status"] == "open"


def test_overdue_follows_the_location_clock(app, client, organisation):
    """The same failure at the same instant, in Madrid and in Mexico City: the seven-day
    deadline ends at 23:59:59 local time, so Madrid's action is overdue hours earlier."""
    # At noon UTC it is the same day in both places (ten days ago, whatever the hour now).
    failed = (datetime.now(timezone.utc) - timedelta(days=10)).replace(hour=12, minute=0, second=0,
                                                                       microsecond=0)
    madrid = submit(client, organisation, "admin", "N1", failing("smile"), at=failed)
    mexico = submit(client, organisation, "admin", "S1", failing("smile"), at=failed)
    madrid_action = action_for(client, organisation, madrid, "smile")
    mexico_action = action_for(client, organisation, mexico, "smile")
    madrid_due = datetime.fromisoformat(madrid_action["due_at"])
    mexico_due = datetime.fromisoformat(mexico_action["due_at"])
    assert mexico_due - madrid_due == timedelta(hours=7)
    assert madrid_action["due_local"].endswith("T23:59:59+01:00")
    assert mexico_action["due_local"].endswith("T23:59:59-06:00")

    with app.app_context():
        admin = db.session.merge(organisation.users["admin"])
        between = madrid_due + timedelta(hours=1)
        overdue, _ = action_service.list_actions(admin, 1, 50, overdue=True, now=between)
        assert [a.id for a in overdue] == [madrid_action["id"]]
        _, total = action_service.list_actions(admin, 1, 50, overdue=True,
                                               now=mexico_due + timedelta(seconds=1))
        assert total == 2


# --- listing, filters, scope ---------------------------------------------------------

@pytest.fixture
def one_action_per_location(client, organisation):
    """An open "smile" action at N1, N2 and S1 (audited by the admin)."""
    return {code: submit(client, organisation, "admin", code, failing("smile"))["actions"][0]["id"]
            for code in ("N1", "N2", "S1")}


@pytest.mark.parametrize("role, visible", [
    ("admin", {"N1", "N2", "S1"}),
    ("regional", {"N1", "N2"}),
    ("manager", {"N1"}),
    ("manager_s", {"S1"}),
])
def test_each_role_sees_and_changes_only_its_scope(client, organisation, one_action_per_location,
                                                   role, visible):
    headers = organisation.headers(role)
    listing = client.get(ACTIONS, headers=headers).get_json()
    assert {a["id"] for a in listing["items"]} == {
        one_action_per_location[code] for code in visible}
    assert listing["total"] == len(visible)
    for code, action_id in one_action_per_location.items():
        read = client.get(f"{ACTIONS}/{action_id}", headers=headers)
        change = client.patch(f"{ACTIONS}/{action_id}", json={"version": 1, "note": "Seen."},
                              headers=headers)
        expected = 200 if code in visible else 404
        assert (read.status_code, change.status_code) == (expected, expected), code
        if expected == 404:
            assert read.get_json()["error"] == {"code": "not_found", "message": "No such action.",
                                               "fields": {}}
            assert change.get_json()["error"]["code"] == "not_found"


def test_list_filters(client, organisation, one_action_per_location):
    headers = organisation.headers("admin")
    n1, n2, s1 = (one_action_per_location[c] for c in ("N1", "N2", "S1"))
    action = client.get(f"{ACTIONS}/{n1}", headers=headers).get_json()
    patch(client, organisation, action, "admin", status="in_progress")

    def ids(query):
        r = client.get(f"{ACTIONS}?{query}", headers=headers)
        assert r.status_code == 200, r.get_json()
        return {a["id"] for a in r.get_json()["items"]}

    assert ids("status=in_progress") == {n1}
    assert ids("status=open,in_progress") == {n1, n2, s1}
    assert ids("status=open&status=in_progress") == {n1, n2, s1}
    assert ids("status=done") == set()
    assert ids(f"location_id={organisation.locations['S1']}") == {s1}
    assert ids(f"owner={organisation.ids['manager']}") == {n1}
    assert ids("owner=me") == {n2}  # nobody manages N2: the admin audited it and owns it
    page = client.get(f"{ACTIONS}?per_page=2&page=2", headers=headers).get_json()
    assert (len(page["items"]), page["page"], page["per_page"], page["total"]) == (1, 2, 2, 3)


def test_a_listing_reads_who_may_verify_with_the_actions(app, client, organisation):
    """Each listed action says whether the reader may verify it (the auditor of the pass
    that proposed verifying it may), read with the actions: a longer page costs no
    more queries (not one audit per action)."""
    now = datetime.now(timezone.utc)
    found = submit(client, organisation, answers=failing("greeted_within_5s", "smile", "staff_available"),
                   at=now - timedelta(hours=2))
    for action in found["actions"]:
        set_columns(app, action["id"], status="done", closed_at=now - timedelta(hours=1))
    submit(client, organisation, at=now)  # the manager's pass proposes verifying all three
    statements = []

    def record(_connection, _cursor, statement, *_):
        statements.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    try:
        pages = {}
        for per_page in (1, 3):
            statements.clear()
            r = client.get(f"{ACTIONS}?per_page={per_page}", headers=organisation.headers("manager"))
            pages[per_page] = r.get_json()["items"], len(statements)
    finally:
        sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)
    (_, queries_for_one), (three, queries_for_three) = pages[1], pages[3]
    assert [item["allowed_moves"] for item in three] == [["verified", "reopened"]] * 3
    assert queries_for_three == queries_for_one


@pytest.mark.parametrize("query, field", [
    ("status=closed", "status.0"),
    ("status=open,nope", "status.0"),
    ("status=open&status=nope", "status.1"),
    ("status=", "status.0"),
    ("status=open,%20done", "status.0"),
    ("overdue=1", "overdue"),
    ("statuss=open", "statuss"),  # a misspelt filter does not list everything
    ("owner=you", "owner"),
    ("owner=-1", "owner"),
    ("overdue=maybe", "overdue"),
    ("location_id=x", "location_id"),
    ("audit_id=123", "audit_id"),
    ("location_id=99999999999", "location_id"),
    ("owner=99999999999", "owner"),
    ("page=0", "page"),
])
def test_bad_list_queries_are_422(client, organisation, query, field):
    r = client.get(f"{ACTIONS}?{query}", headers=organisation.headers("admin"))
    assert r.status_code == 422
    assert field in r.get_json()["error"]["fields"]


@pytest.mark.parametrize("body, field", [
    ({}, "version"),
    ({"version": "1", "note": "x"}, "version"),
    ({"version": 0, "note": "x"}, "version"),
    ({"version": 1, "status": "fixed"}, "status"),
    ({"version": 1, "status": "done", "owner_id": 1, "note": "x"}, "owner_id"),
    ({"version": 1, "owner_id": 1, "note": "x"}, "note"),
    ({"version": 1, "reason": "why"}, "reason"),
    ({"version": 1, "note": "x" * 2001}, "note"),
    ({"version": 1, "owner_id": "me", "reason": "x"}, "owner_id"),
    ({"version": 1, "owner_id": 2**40, "reason": "x"}, "owner_id"),
    ({"version": 1, "colour": "red", "note": "x"}, "colour"),
    ({"version": 1}, "note"),
    ({"version": 1, "note": "   "}, "note"),
])
def test_bad_changes_are_422_and_change_nothing(app, client, organisation, body, field):
    audit = submit(client, organisation, answers=failing("smile"))
    action_id = audit["actions"][0]["id"]
    r = client.patch(f"{ACTIONS}/{action_id}", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 422, r.get_json()
    assert field in r.get_json()["error"]["fields"]
    [row] = action_rows(app)
    assert (row.version, row.status, len(row.events)) == (1, "open", 1)


def test_other_bad_requests(client, organisation):
    headers = organisation.headers("manager")
    audit = submit(client, organisation, answers=failing("smile"))
    url = f"{ACTIONS}/{audit['actions'][0]['id']}"
    assert client.patch(url, data="version=1", headers=headers).status_code == 415
    r = client.patch(url, data="{", headers=headers, content_type="application/json")
    assert r.status_code == 400
    assert client.get(f"{ACTIONS}/999999", headers=headers).status_code == 404
    assert client.get(f"{ACTIONS}/99999999999999", headers=headers).status_code == 404
    assert client.patch(f"{ACTIONS}/999999", json={"version": 1, "note": "x"},
                        headers=headers).status_code == 404
    assert client.get(ACTIONS).status_code == 401
    assert client.get(url).status_code == 401


# --- the "after" photo --------------------------------------------------------

def test_the_after_photo_is_stored_recorded_and_served(app, client, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean"))
    action = action_for(client, organisation, audit, "floor_clean")
    photo_id = uuid.uuid4()
    r = upload_after_photo(client, organisation, action, photo_id=photo_id, caption="Mopped")
    assert r.status_code == 201, r.get_json()
    photo = r.get_json()
    assert (photo["action_id"], photo["audit_id"], photo["location_id"]) == (
        action["id"], None, organisation.locations["N1"])
    again = upload_after_photo(client, organisation, action, photo_id=photo_id, caption="Mopped")
    assert again.status_code == 200 and again.get_json() == photo
    action = action_for(client, organisation, audit, "floor_clean")
    assert action["after_photo_id"] == str(photo_id)
    assert kinds(action).count("photo") == 1
    # The regional manager of the location sees it; a manager elsewhere does not.
    assert client.get(photo["thumb_url"], headers=organisation.headers("regional")).status_code == 200
    assert client.get(photo["thumb_url"], headers=organisation.headers("manager_s")).status_code == 404
    r = patch(client, organisation, action, status="done", note="Mopped and dried.")
    assert r.status_code == 200 and r.get_json()["status"] == "done"


def test_after_photo_uploads_are_scoped_and_checked(app, client, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean"))
    action = action_for(client, organisation, audit, "floor_clean")
    assert upload_after_photo(client, organisation, action, role="manager_s").status_code == 404
    r = upload_after_photo(client, organisation, action, item_id="floor_clean")
    assert r.status_code == 422 and "item_id" in r.get_json()["error"]["fields"]
    r = client.post(f"{ACTIONS}/{action['id']}/photos", json={"id": str(uuid.uuid4())},
                    headers=organisation.headers("manager"))
    assert r.status_code == 415
    assert upload_after_photo(client, organisation, action).status_code == 201
    action = patch(client, organisation, action_for(client, organisation, audit, "floor_clean"),
                   status="done", note="Fixed.").get_json()
    action = patch(client, organisation, action, "regional", status="verified", note="Checked.").get_json()
    r = upload_after_photo(client, organisation, action)
    assert r.status_code == 422 and "final" in r.get_json()["error"]["message"]
