"""`flask seed-demo` with generated regions and locations: a realistic organisation and
history, stored exactly as the app stores audits and actions, the same for the same seed."""
import random
from collections import Counter
from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActionEvent, Audit, ChecklistVersion, CorrectiveAction
from audit_server.services import demo_history
from audit_server.services.accounts import authenticate
from audit_server.services.audits import new_audit, scored_parts
from audit_server.services.checklists import Checklist, current_checklist_of_kind, validate_answers
from audit_server.services.demo_history import History, Writer
from audit_server.services.scoring import score_answers

SMALL = ["seed-demo", "--audits", "400", "--locations", "12", "--regions", "3",
         "--until", "2026-11-30"]
END = datetime(2026, 11, 30, 20, tzinfo=timezone.utc)
TABLES = ["regions", "locations", "users", "user_regions", "user_locations", "audits",
          "corrective_actions", "action_audits", "action_events", "photos"]


@pytest.fixture
def seeded(app, runner):
    result = runner.invoke(args=SMALL + ["--seed", "3"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        yield result.output


def rows(sql, **params):
    return db.session.execute(sa.text(sql), params).all()


def scalar(sql, **params):
    return db.session.execute(sa.text(sql), params).scalar()


def test_the_generated_organisation_sits_beside_the_named_one(seeded):
    assert "admin@momento.example" in seeded and "momento-demo" in seeded
    assert scalar("SELECT count(*) FROM audits") == 400
    regions = dict(rows("SELECT code, name FROM regions"))
    assert len(regions) == 5 and regions["NORTE"] == "Región Norte"
    assert sorted(c for c in regions if c.startswith("G")) == ["G1", "G2", "G3"]
    locations = rows("SELECT l.code, l.name, l.timezone, r.code FROM locations l "
                     "JOIN regions r ON r.id = l.region_id")
    assert len(locations) == 18
    generated = [loc for loc in locations if loc[0].startswith("G")]
    assert Counter(loc[3] for loc in generated) == {"G1": 4, "G2": 4, "G3": 4}
    # Area by area: Cantábrico on Madrid's clock, Canarias on the islands', México on its own.
    assert {loc[3]: loc[2] for loc in generated} == {
        "G1": "Europe/Madrid", "G2": "Atlantic/Canary", "G3": "America/Mexico_City"}
    assert any(ch in "".join(loc[1] for loc in generated) for ch in "áéíóúñ")
    # A regional manager per generated region, a manager for every location (1 to 3 each).
    assert rows("SELECT r.code, count(*) FROM user_regions ur JOIN regions r ON r.id = ur.region_id "
                "JOIN users u ON u.id = ur.user_id WHERE u.role = 'regional' AND r.code LIKE 'G%' "
                "GROUP BY r.code ORDER BY r.code") == [("G1", 1), ("G2", 1), ("G3", 1)]
    managed = rows("SELECT l.code, count(ul.user_id) FROM locations l LEFT JOIN user_locations ul "
                   "ON ul.location_id = l.id GROUP BY l.code")
    assert all(n == 1 for _, n in managed)
    per_manager = [n for (n,) in rows("SELECT count(*) FROM user_locations ul JOIN users u "
                                      "ON u.id = ul.user_id WHERE u.email LIKE 'manager.%' "
                                      "GROUP BY ul.user_id")]
    assert sum(per_manager) == 12 and set(per_manager) <= {1, 2, 3}
    # Every demo login works with the one password, named and generated alike.
    for email in ("norte@momento.example", "regional.g2@momento.example", "manager.g3-0001@momento.example"):
        assert authenticate(email, "momento-demo") is not None, email
    # Every location has a history: walk-ins about weekly, phone calls about fortnightly.
    per_kind = dict(rows("SELECT checklist_id, count(*) FROM audits GROUP BY checklist_id"))
    assert sum(per_kind.values()) == 400
    assert 1.8 < per_kind["five_second_walk_in"] / per_kind["call_your_own_number"] < 2.2
    latest = rows("SELECT max(submitted_at) FROM audits GROUP BY location_id")
    assert len(latest) == 18 and all(_utc(t) > END - timedelta(days=14) for (t,) in latest)


def test_demo_audits_are_what_submitting_their_answers_stores(seeded):
    versions = {(v.checklist_id, v.version): Checklist(v.checklist_id, v.version, v.kind, v.definition)
                for v in db.session.scalars(sa.select(ChecklistVersion))}
    zones = dict(rows("SELECT id, timezone FROM locations"))
    audits = db.session.scalars(sa.select(Audit)).all()
    outcomes = Counter()
    for audit in audits:
        checklist = versions[(audit.checklist_id, audit.checklist_version)]
        answers = {item_id: {"value": a["value"], **({"comment": a["comment"]} if a["comment"] else {})}
                   for item_id, a in audit.answers.items()}
        validate_answers(checklist, answers)
        data = {"id": audit.id, "location_id": audit.location_id, "checklist_id": audit.checklist_id,
                "started_at": audit.started_at, "submitted_at": audit.submitted_at,
                "answers": answers, "notes": audit.notes}
        again = new_audit(SimpleNamespace(id=audit.auditor_id), data, checklist, zones[audit.location_id])
        for column in ("answers", "sections", "score_percent", "points", "max_points",
                       "critical_failed", "local_date", "content_hash", "checklist_version"):
            assert getattr(audit, column) == getattr(again, column), (audit.id, column)
        assert audit.started_at < audit.submitted_at <= END
        assert audit.received_at >= audit.submitted_at
        outcomes["critical"] += audit.critical_failed
        outcomes["failed"] += bool(audit.failed_items)
        outcomes["na"] += any(a["value"] == "na" for a in audit.answers.values())
        outcomes["comment"] += any(a["comment"] for a in audit.answers.values())
        # An unanswered call: nothing after "answered" applies, so nothing else is asked.
        if audit.answers.get("answered", {}).get("value") is False:
            outcomes["unanswered"] += 1
            assert set(audit.answers) <= {"answered", "call_seconds"}
    assert 0 < outcomes["critical"] < 0.25 * len(audits)
    assert 0.2 * len(audits) < outcomes["failed"] < 0.9 * len(audits)
    assert outcomes["na"] > 0 and outcomes["comment"] > 0 and outcomes["unanswered"] > 0
    assert len({a.score_percent for a in audits}) > 20


def test_failed_items_become_actions_as_the_app_opens_links_and_proposes_them(seeded):
    failures = Counter()
    for audit in db.session.scalars(sa.select(Audit)):
        for item_id in audit.failed_items:
            failures[(audit.location_id, audit.checklist_id, item_id)] += 1
    # Each failure is linked to an action of its location and item; the first opened it,
    # the later ones while it was not verified repeat it.
    linked = Counter({(loc, checklist, item): n for loc, checklist, item, n in rows(
        "SELECT a.location_id, a.checklist_id, a.item_id, count(*) FROM action_audits aa "
        "JOIN corrective_actions a ON a.id = aa.action_id "
        "JOIN audits au ON au.id = aa.audit_id AND au.location_id = a.location_id "
        "GROUP BY a.location_id, a.checklist_id, a.item_id")})
    assert linked == failures and sum(failures.values()) > 100
    assert scalar("SELECT count(*) FROM (SELECT location_id, checklist_id, item_id FROM "
                  "corrective_actions WHERE status != 'verified' "
                  "GROUP BY location_id, checklist_id, item_id HAVING count(*) > 1) t") == 0
    assert scalar("SELECT count(*) FROM corrective_actions a WHERE repeat_count != "
                  "(SELECT count(*) FROM action_audits aa WHERE aa.action_id = a.id) - 1") == 0
    # Fixed within days, most actions are verified before the next audit: a few repeat.
    assert scalar("SELECT count(*) FROM corrective_actions WHERE repeat_count >= 1") >= 5
    # The opening audit: its submission is the action's opening, and it is linked.
    assert scalar("SELECT count(*) FROM corrective_actions a JOIN audits au ON au.id = a.audit_id "
                  "WHERE au.submitted_at != a.opened_at OR au.location_id != a.location_id") == 0
    # A proposal to verify comes from a later audit where the item passed.
    proposals = db.session.execute(
        sa.select(ActionEvent.audit_id, CorrectiveAction.item_id, CorrectiveAction.opened_at)
        .join(CorrectiveAction, CorrectiveAction.id == ActionEvent.action_id)
        .where(ActionEvent.kind == "verification_proposed")).all()
    assert len(proposals) > 20
    audits = {a.id: a for a in db.session.scalars(sa.select(Audit).where(
        Audit.id.in_({p[0] for p in proposals})))}
    for audit_id, item_id, opened_at in proposals[:200]:
        answer = audits[audit_id].answers[item_id]
        assert answer["max_points"] is not None and not answer["failed"]
        assert audits[audit_id].submitted_at > opened_at
    # Critical items are due 24 hours after the failure.
    assert scalar("SELECT count(*) FROM corrective_actions WHERE critical") > 0
    critical = rows("SELECT opened_at, due_at FROM corrective_actions WHERE critical")
    assert {_utc(due) - _utc(opened) for opened, due in critical} == {timedelta(hours=24)}


def test_action_columns_agree_with_their_timelines(seeded):
    actions = rows("""
        SELECT a.id, a.status, a.first_done_at, a.closed_at, a.verified_at, a.version,
               a.photo_required, a.after_photo_id, a.owner_id, a.due_at,
               (SELECT count(*) FROM action_events e WHERE e.action_id = a.id) AS events,
               (SELECT count(*) FROM action_events e WHERE e.action_id = a.id AND e.kind = 'opened') AS opened,
               (SELECT min(at) FROM action_events e WHERE e.action_id = a.id AND e.to_value = 'done'
                  AND e.kind = 'status') AS first_done,
               (SELECT max(at) FROM action_events e WHERE e.action_id = a.id AND e.to_value = 'done'
                  AND e.kind = 'status') AS last_done,
               (SELECT max(at) FROM action_events e WHERE e.action_id = a.id AND e.to_value = 'verified'
                  AND e.kind = 'status') AS verified,
               (SELECT count(*) FROM action_events e WHERE e.action_id = a.id AND e.kind = 'status'
                  AND e.to_value = 'reopened' AND e.audit_id IS NULL
                  AND e.note = 'The item failed again in a later audit.') AS reopened_by_failure
        FROM corrective_actions a""")
    last_status = dict(rows(
        "SELECT e.action_id, e.to_value FROM action_events e WHERE e.kind = 'status' AND e.id = "
        "(SELECT max(id) FROM action_events f WHERE f.action_id = e.action_id AND f.kind = 'status')"))
    for a in actions:
        assert a.opened == 1
        assert a.status == last_status.get(a.id, "open")
        assert _utc(a.first_done_at) == _utc(a.first_done)
        assert _utc(a.closed_at) == (_utc(a.last_done) if a.status in ("done", "verified") else None)
        assert _utc(a.verified_at) == _utc(a.verified)
        # One stored change per entry, but a failure that reopens is one change of two entries.
        assert a.version == a.events - a.reopened_by_failure
        if a.photo_required and a.status in ("done", "verified"):
            assert a.after_photo_id is not None
        elif a.status not in ("done", "verified"):
            assert a.after_photo_id is None
    # Moves go one after the other, each allowed, by the owner (done) or the regional manager.
    moves = rows("SELECT e.action_id, e.from_value, e.to_value, e.actor_id, a.owner_id, "
                 "(SELECT min(ur.user_id) FROM user_regions ur JOIN locations l "
                 " ON l.region_id = ur.region_id WHERE l.id = a.location_id) "
                 "FROM action_events e JOIN corrective_actions a ON a.id = e.action_id "
                 "WHERE e.kind = 'status' ORDER BY e.action_id, e.id")
    allowed = {"open": {"in_progress", "done"}, "in_progress": {"done"},
               "reopened": {"in_progress", "done"}, "done": {"verified", "reopened"}}
    status = {}
    for action_id, before, after, actor, owner, regional in moves:
        assert before == status.get(action_id, "open") and after in allowed[before]
        assert actor == (owner if after in ("in_progress", "done") else actor)
        if after == "verified":
            assert actor == regional
        status[action_id] = after
    assert scalar("SELECT count(*) FROM action_events WHERE kind IN ('opened', 'status') AND note = '' "
                  "AND to_value IN ('done', 'reopened')") == 0
    # The "after" photos are photos of their action.
    assert scalar("SELECT count(*) FROM corrective_actions a JOIN photos p ON p.id = a.after_photo_id "
                  "WHERE p.action_id != a.id") == 0
    assert scalar("SELECT count(*) FROM corrective_actions WHERE after_photo_id IS NOT NULL") > 0
    assert scalar("SELECT count(*) FROM action_events WHERE to_value = 'reopened'") > 0
    assert scalar("SELECT count(*) FROM corrective_actions WHERE status = 'verified'") > \
        0.6 * scalar("SELECT count(*) FROM corrective_actions")
    assert scalar("SELECT max(at) FROM action_events") is not None


OPEN = ("open", "in_progress", "reopened")


def test_most_actions_are_closed_on_time_a_few_are_open_and_those_overdue_by_days(seeded):
    actions = db.session.execute(sa.select(CorrectiveAction)).scalars().all()
    closed = [a for a in actions if a.first_done_at is not None]
    on_time = sum(a.first_done_at <= a.due_at for a in closed)
    assert 0.8 * len(closed) < on_time < len(closed)  # mostly on time, some late
    still_open = [a for a in actions if a.status in OPEN]
    assert 0 < len(still_open) < 0.12 * len(actions)  # a few
    # Open at the end of the history: opened in its last weeks, not months ago.
    assert min(a.opened_at for a in still_open) > END - timedelta(days=21)
    within = [a for a in still_open if a.due_at >= END]
    overdue = sorted((END - a.due_at for a in still_open if a.due_at < END), reverse=True)
    assert within and overdue and len(overdue) < 0.04 * len(actions)
    # Overdue by days, not months: at most MAX_OVERDUE_DAYS, as the rules of the demo say.
    assert overdue[0] <= timedelta(days=demo_history.MAX_OVERDUE_DAYS), overdue
    assert all(delay > timedelta(0) for delay in overdue)


def test_every_timeline_entry_is_dated_by_the_audit_it_follows(seeded):
    events = rows("""
        SELECT e.kind, e.at, e.audit_id IS NOT NULL, au.submitted_at, au.received_at,
               opening.submitted_at
        FROM action_events e JOIN corrective_actions a ON a.id = e.action_id
        JOIN audits opening ON opening.id = a.audit_id
        LEFT JOIN audits au ON au.id = e.audit_id""")
    assert len(events) > 1000
    kinds = Counter()
    for kind, at, by_audit, submitted, received, opened in events:
        at = _utc(at)
        assert _utc(opened) <= at <= END, (kind, at)  # after the failure, within the history
        if by_audit:  # opened, failed again, found fixed: when that audit reached the server
            assert _utc(submitted) <= at == _utc(received), (kind, at)
            kinds[kind] += 1
    assert set(kinds) == {"opened", "linked_audit", "verification_proposed"}


def test_a_history_until_today_ends_now(app, runner):
    """No audit and no timeline entry after the moment seed-demo runs, though the history's
    last day goes on until 20:00 UTC."""
    today = datetime.now(timezone.utc).date().isoformat()
    result = runner.invoke(args=["seed-demo", "--audits", "150", "--until", today])
    assert result.exit_code == 0, result.output
    with app.app_context():
        now = datetime.now(timezone.utc)
        latest = [_utc(scalar(f"SELECT max({column}) FROM {table}")) for table, column in (
            ("audits", "submitted_at"), ("audits", "received_at"), ("action_events", "at"),
            ("corrective_actions", "updated_at"), ("photos", "created_at"))]
        assert all(moment is None or moment <= now for moment in latest), latest
        assert latest[0] > now - timedelta(days=7)


def _utc(value):
    """A time read with plain SQL: SQLite gives text, PostgreSQL an aware datetime."""
    if value is None or isinstance(value, datetime):
        return value and value.astimezone(timezone.utc)
    return datetime.fromisoformat(value).replace(tzinfo=timezone.utc)


def _everything(app):
    """Every row the demo writes, table by table (users without their salted hash and
    the named users' creation time)."""
    with app.app_context():
        found = {}
        for table in TABLES:
            columns = [c for c in db.metadata.tables[table].columns.keys()
                       if (table, c) not in {("users", "password_hash"), ("users", "created_at")}]
            found[table] = sorted(db.session.execute(
                sa.select(*[db.metadata.tables[table].c[c] for c in columns])).all(), key=repr)
        return found


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_ones(fresh_app):
    first, second, third = fresh_app(), fresh_app(), fresh_app()
    for app, seed in ((first, "5"), (second, "5"), (third, "6")):
        result = app.test_cli_runner().invoke(args=SMALL + ["--seed", seed])
        assert result.exit_code == 0, result.output
    same, other = _everything(first), _everything(second)
    assert same == other
    assert len(same["audits"]) == 400 and len(same["action_events"]) > 400
    different = _everything(third)
    assert different["locations"] != same["locations"]
    assert {row.id for row in different["audits"]}.isdisjoint({row.id for row in same["audits"]})
    # Run again, nothing is added.
    result = first.test_cli_runner().invoke(args=SMALL + ["--seed", "5"])
    assert "0 new audits" in result.output
    assert _everything(first) == same


def test_bulk_rows_hold_times_as_the_column_type_writes_them(app):
    column_type = Audit.__table__.c.submitted_at.type
    with app.app_context():
        dialect = db.engine.dialect
    madrid = timezone(timedelta(hours=1))
    position = [c.key for c in Audit.__table__.columns].index("submitted_at")
    convert = dict(Writer(dialect).converters["audits"])[position]
    for moment in (datetime(2026, 3, 29, 1, 59, 59, 999999, tzinfo=madrid),
                   datetime(2026, 12, 1, 20, tzinfo=timezone.utc),
                   datetime(2026, 12, 1, 20, 0, 0, 1, tzinfo=ZoneInfo("UTC")), None):
        expected = column_type.dialect_impl(dialect).bind_processor(dialect)(moment) \
            if dialect.name == "sqlite" else (moment and moment.isoformat())
        assert convert(moment) == expected


def test_the_shared_scores_are_those_of_each_audits_own_answers(app):
    """History._score shares one scored_parts between audits that answer alike what a
    score reads; every audit's must still be that of its own answers, uncached."""
    with app.app_context():
        checklists = {kind: current_checklist_of_kind(kind) for kind in ("walk_in", "phone")}
        history = History(db.engine.dialect, checklists, END, 3, photo={})
        rng = random.Random(11)
        shared = 0
        for n in range(3000):
            checklist = checklists["phone" if n % 2 else "walk_in"]
            audit = history._audit(SimpleNamespace(id=1, timezone="Atlantic/Canary"), checklist,
                                   SimpleNamespace(id=1), END - timedelta(days=n % 300),
                                   rng.uniform(0.4, 0.99), rng)
            answers = {k: {"value": a["value"]} for k, a in audit.answers.items()}
            known = sum(len(scores) for scores in history._scores.values())
            parts = history._score(checklist, answers)
            shared += known == sum(len(scores) for scores in history._scores.values())
            assert parts == scored_parts(checklist, score_answers(
                checklist.definition, {k: a["value"] for k, a in answers.items()})), audit.answers
        # Hold times of one band share a score; of another they do not.
        phone = checklists["phone"]
        call = {k: {"value": v} for k, v in {
            "answered": True, "rings_to_answer": 2, "menu_easy": "na", "greeting_business_name": True,
            "greeting_own_name": False, "courtesy": 4, "reached_person": True, "transfers": 1,
            "warm_transfer": True, "hold_seconds": 40, "not_my_department": False, "owned": True,
            "follow_up_promised": True, "useful": 5, "call_seconds": 200}.items()}
        first = history._score(phone, call)
        assert history._score(phone, {**call, "hold_seconds": {"value": 85}}) is first
        assert history._score(phone, {**call, "hold_seconds": {"value": 95}}) != first
        assert history._score(phone, {**call, "hold_seconds": {"value": 25}}) != first
    assert shared > 1000
