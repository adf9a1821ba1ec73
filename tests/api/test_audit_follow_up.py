"""What POST /api/v1/audits says an audit set in motion, for the phone's summary: the
actions it opened or was linked to (title, owner, deadline, page) and the audit of the
same checklist at the same location just before it."""
from datetime import datetime, timedelta, timezone

from tests.helpers import PHONE_CALL, audit_body, failing, phone_answers, submit

DAY = timedelta(days=1)
NOW = datetime.now(timezone.utc).replace(microsecond=0)


def post(client, organisation, body, role="manager"):
    return client.post("/api/v1/audits", json=body, headers=organisation.headers(role))


def test_the_first_audit_here_has_no_previous_and_names_the_actions_it_opened(client, organisation):
    audit = submit(client, organisation, answers=failing("floor_clean", "greeted_within_5s"),
                   at=NOW - DAY)
    assert audit["previous"] is None
    assert audit["url"] == f"/audits/{audit['id']}"
    by_item = {a["item_id"]: a for a in audit["actions"]}
    assert set(by_item) == {"floor_clean", "greeted_within_5s"}
    floor = by_item["floor_clean"]
    assert floor["link"] == "opened" and floor["status"] == "open"
    assert floor["url"] == f"/actions/{floor['id']}"
    assert floor["owner"] == {"id": organisation.ids["manager"], "email": "manager@example.com",
                              "name": floor["owner"]["name"]}
    assert floor["title"]["es"] and floor["title"]["en"]
    # Seven days, to the end of that day on Madrid's clock; the critical item: 24 hours exactly.
    due_local = datetime.fromisoformat(floor["due_local"])
    assert due_local.utcoffset() in (timedelta(hours=1), timedelta(hours=2))
    assert (due_local.hour, due_local.minute, due_local.second) == (23, 59, 59)
    assert datetime.fromisoformat(floor["due_at"]) == due_local
    greeted = datetime.fromisoformat(by_item["greeted_within_5s"]["due_at"])
    assert greeted == NOW - DAY + timedelta(hours=24)


def test_a_second_audit_names_the_one_before_it_lower_or_higher(client, organisation):
    first = submit(client, organisation, at=NOW - 3 * DAY)  # 100 %
    lower = submit(client, organisation, answers=failing("smile"), at=NOW - 2 * DAY)
    assert lower["previous"] == {"id": first["id"], "submitted_at": first["submitted_at"],
                                 "score_percent": 100.0}
    assert lower["score"]["percent"] < 100.0
    higher = submit(client, organisation, at=NOW - DAY)
    assert higher["previous"] == {"id": lower["id"], "submitted_at": lower["submitted_at"],
                                  "score_percent": lower["score"]["percent"]}
    assert higher["score"]["percent"] == 100.0


def test_previous_is_of_the_same_checklist_and_location(client, organisation):
    submit(client, organisation, at=NOW - 3 * DAY)  # a walk-in at N1
    submit(client, organisation, role="admin", location="N2", at=NOW - 2 * DAY,
           checklist=PHONE_CALL)
    call = submit(client, organisation, checklist=PHONE_CALL, at=NOW - DAY)
    assert call["previous"] is None
    walk_in_elsewhere = submit(client, organisation, role="admin", location="N2", at=NOW)
    assert walk_in_elsewhere["previous"] is None


def test_an_audit_sent_late_is_compared_with_the_one_before_it_not_the_newest(client, organisation):
    """An audit kept on a phone without signal arrives after a later one: it follows the
    audit that came before it in time."""
    older = submit(client, organisation, at=NOW - 3 * DAY)
    newer = submit(client, organisation, at=NOW - DAY)
    late = submit(client, organisation, answers=failing("smile"), at=NOW - 2 * DAY)
    assert late["previous"]["id"] == older["id"]
    assert newer["previous"]["id"] == older["id"]


def test_a_repeated_failure_is_linked_to_the_action_still_open(client, organisation):
    first = submit(client, organisation, answers=failing("floor_clean"), at=NOW - 2 * DAY)
    again = submit(client, organisation, answers=failing("floor_clean", "smile"), at=NOW - DAY)
    opened = first["actions"][0]
    by_item = {a["item_id"]: a for a in again["actions"]}
    assert by_item["floor_clean"]["id"] == opened["id"]
    assert by_item["floor_clean"]["link"] == "linked"
    assert by_item["floor_clean"]["due_at"] == opened["due_at"]  # its deadline stands
    assert by_item["smile"]["link"] == "opened"
    # Read again, the first audit still says it opened the action.
    read = client.get(f"/api/v1/audits/{first['id']}", headers=organisation.headers("manager"))
    assert read.get_json()["actions"][0]["link"] == "opened"
    assert read.get_json()["previous"] is None


def test_a_replay_answers_the_same_whatever_came_since(client, organisation):
    submit(client, organisation, at=NOW - 3 * DAY)
    body = audit_body(organisation.locations["N1"], answers=failing("floor_clean"),
                      started_at=(NOW - 2 * DAY - timedelta(minutes=2)).isoformat(),
                      submitted_at=(NOW - 2 * DAY).isoformat())
    stored = post(client, organisation, body)
    assert stored.status_code == 201
    submit(client, organisation, answers=failing("floor_clean"), at=NOW - DAY)  # links to it
    replay = post(client, organisation, body)
    assert replay.status_code == 200
    assert replay.get_json() == stored.get_json()
    assert replay.get_json()["previous"]["score_percent"] == 100.0


def test_previous_is_only_what_the_person_may_see(app, client, organisation):
    """An admin's earlier audit at S1 is seen by S1's manager (it is their location); a
    regional manager of N never reaches S1 at all."""
    admin_first = submit(client, organisation, role="admin", location="S1", at=NOW - 2 * DAY)
    mine = submit(client, organisation, role="manager_s", location="S1", at=NOW - DAY)
    assert mine["previous"]["id"] == admin_first["id"]
    elsewhere = post(client, organisation, audit_body(organisation.locations["S1"]), role="regional")
    assert elsewhere.status_code == 422
    assert "previous" not in elsewhere.get_json()


def test_a_phone_audit_with_a_critical_failure_names_its_owner_and_deadline(client, organisation):
    audit = submit(client, organisation, checklist=PHONE_CALL,
                   answers=phone_answers(not_my_department=True), at=NOW - DAY)
    [action] = audit["actions"]
    assert action["item_id"] == "not_my_department" and action["link"] == "opened"
    assert datetime.fromisoformat(action["due_at"]) == NOW
    assert action["owner"]["id"] == organisation.ids["manager"]


def test_a_list_of_audits_leaves_previous_out(client, organisation):
    submit(client, organisation, at=NOW - 2 * DAY)
    second = submit(client, organisation, answers=failing("smile"), at=NOW - DAY)
    listed = client.get("/api/v1/audits", headers=organisation.headers("manager")).get_json()["items"]
    assert [a["id"] for a in listed][0] == second["id"]
    assert all("previous" not in a for a in listed)
    assert listed[0]["actions"] == second["actions"]
