"""The migrations: they build the schema the models describe, and carry stored data over."""
import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from audit_server import create_app
from audit_server.extensions import db
from audit_server.models import Audit, CorrectiveAction
from audit_server.models.types import JSONDocument, UTCDateTime
from audit_server.services import checklists
from tests.helpers import Org, new_database


def test_the_migrations_build_the_schema_the_models_describe(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True})
        assert compare_metadata(context, db.metadata) == []


def app_at(revision, tmp_path):
    """An app on a database of its own, migrated up to `revision`."""
    with new_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url,
                          "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000"})
        app.instance_path = str(tmp_path)
        with app.app_context():
            upgrade(revision=revision)
            checklists.store_versions(app.extensions["momento.checklists"])
            yield app
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def app_at_0004(tmp_path):
    """Answers in rows."""
    yield from app_at("0004_action_photos", tmp_path)


@pytest.fixture
def app_at_0005(tmp_path):
    """No local dates on audits, no first move to done on actions."""
    yield from app_at("0005_answers_document", tmp_path)


# The tables as 0004 left them.
OLD_AUDITS = sa.table("audits", *[sa.column(c.key, c.type) for c in Audit.__table__.columns
                                  if c.key not in ("answers", "local_date")])
OLD_ANSWERS = sa.table(
    "answers", sa.column("audit_id", sa.Uuid), sa.column("item_id", sa.String),
    sa.column("position", sa.Integer), sa.column("value", JSONDocument),
    sa.column("comment", sa.Text), sa.column("applies", sa.Boolean),
    sa.column("points", sa.Float), sa.column("max_points", sa.Float),
    sa.column("failed", sa.Boolean), sa.column("critical", sa.Boolean),
    sa.column("photo_when_failed", sa.Boolean),
)
# item_id: (position, value, comment, applies, points, max_points, failed, critical, photo_when_failed)
STORED = {
    "answered": (0, True, "", True, 3.0, 3.0, False, True, False),
    "rings_to_answer": (1, 4, "slow", True, 1.0, 2.0, False, False, False),
    "menu_easy": (2, "na", "", True, None, None, False, False, False),
    "greeting_own_name": (4, False, "", True, 0.0, 1.0, True, False, False),
    "hold_seconds": (9, 42.5, "", True, 1.0, 1.0, False, False, False),
    "follow_up_promised": (12, None, "", False, None, None, False, False, False),
    "first_impression": (14, "Polite, «un poco lento»", "", True, None, None, False, False, False),
}
FIELDS = ("position", "value", "comment", "applies", "points", "max_points", "failed", "critical",
          "photo_when_failed")


def test_0005_moves_stored_answers_into_the_audit_document_and_back(app_at_0004):
    organisation = Org(app_at_0004)
    version = checklists.find_version("call_your_own_number").version
    moment = datetime(2026, 11, 30, 9, 30, tzinfo=timezone.utc)
    answered, empty = uuid.uuid4(), uuid.uuid4()
    for audit_id in (answered, empty):
        db.session.execute(OLD_AUDITS.insert().values(
            id=audit_id, location_id=organisation.locations["N1"], checklist_id="call_your_own_number",
            checklist_version=version, auditor_id=organisation.ids["manager"], started_at=moment,
            submitted_at=moment, received_at=moment, notes="", content_hash="0" * 64,
            score_percent=50.0, points=5.0, max_points=10.0, critical_failed=False, sections=[]))
    db.session.execute(OLD_ANSWERS.insert(), [
        {"audit_id": answered, "item_id": item_id, **dict(zip(FIELDS, row))}
        for item_id, row in STORED.items()])
    db.session.commit()

    upgrade()
    assert db.session.get(Audit, answered).answers == {
        item_id: dict(zip(FIELDS, row)) for item_id, row in STORED.items()}
    assert db.session.get(Audit, empty).answers == {}
    assert not sa.inspect(db.engine).has_table("answers")
    db.session.rollback()

    downgrade(revision="0004_action_photos")
    rows = db.session.execute(sa.select(OLD_ANSWERS)).all()
    assert {row.item_id: tuple(getattr(row, f) for f in FIELDS) for row in rows} == STORED
    assert {row.audit_id for row in rows} == {answered}
    assert "answers" not in {c["name"] for c in sa.inspect(db.engine).get_columns("audits")}


def test_0006_dates_stored_audits_on_their_location_s_clock_and_finds_the_first_move_to_done(
        app_at_0005):
    organisation = Org(app_at_0005)
    version = checklists.find_version("five_second_walk_in").version
    audits = sa.table("audits", *[sa.column(c.key, c.type) for c in Audit.__table__.columns
                                  if c.key != "local_date"])
    # 23:30 UTC on Sunday 29 November is already Monday in Madrid; 03:00 UTC on Monday
    # 30 November is still Sunday in Mexico City.
    madrid, mexico = uuid.uuid4(), uuid.uuid4()
    for audit_id, location, moment in (
            (madrid, "N1", datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)),
            (mexico, "S1", datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc))):
        db.session.execute(audits.insert().values(
            id=audit_id, location_id=organisation.locations[location],
            checklist_id="five_second_walk_in", checklist_version=version,
            auditor_id=organisation.ids["manager"], started_at=moment, submitted_at=moment,
            received_at=moment, notes="", content_hash="0" * 64, score_percent=50.0, points=5.0,
            max_points=10.0, critical_failed=False, sections=[], answers={}))
    actions = sa.table("actions", *[sa.column(c.key, c.type) for c in CorrectiveAction.__table__.columns
                                    if c.key != "first_done_at"])
    actions.name = "corrective_actions"
    opened = datetime(2026, 11, 30, 8, 0, tzinfo=timezone.utc)
    for action_id in (1, 2):
        db.session.execute(actions.insert().values(
            id=action_id, location_id=organisation.locations["N1"], audit_id=madrid,
            checklist_id="five_second_walk_in", item_id=f"item_{action_id}", title={"en": "x"},
            critical=False, photo_required=False, owner_id=organisation.ids["manager"],
            status="done" if action_id == 1 else "open", opened_at=opened, due_at=opened,
            updated_at=opened, repeat_count=0, version=1))
    events = sa.table("action_events", sa.column("action_id"), sa.column("at", UTCDateTime),
                      sa.column("kind"), sa.column("from_value"), sa.column("to_value"),
                      sa.column("note"))
    # Done, reopened, done again: the first move to done counts.
    db.session.execute(events.insert(), [
        {"action_id": 1, "at": opened + timedelta(hours=hours), "kind": "status",
         "from_value": before, "to_value": after, "note": "n"}
        for hours, before, after in ((2, "open", "done"), (3, "done", "reopened"),
                                     (5, "reopened", "done"))])
    db.session.commit()

    upgrade()
    assert db.session.get(Audit, madrid).local_date == date(2026, 11, 30)
    assert db.session.get(Audit, mexico).local_date == date(2026, 11, 29)
    assert db.session.get(CorrectiveAction, 1).first_done_at == opened + timedelta(hours=2)
    assert db.session.get(CorrectiveAction, 2).first_done_at is None
    db.session.rollback()

    downgrade(revision="0005_answers_document")
    assert "local_date" not in {c["name"] for c in sa.inspect(db.engine).get_columns("audits")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(audits)) == 2


@pytest.fixture
def app_at_0007(tmp_path):
    """No scored items on audits."""
    yield from app_at("0007_report_indexes", tmp_path)


def test_0009_reads_each_stored_audit_s_scored_items_off_its_answers(app_at_0007):
    organisation = Org(app_at_0007)
    version = checklists.find_version("call_your_own_number").version
    audits = sa.table("audits", *[sa.column(c.key, c.type) for c in Audit.__table__.columns
                                  if c.key != "scored_items"])
    moment = datetime(2026, 11, 30, 9, 30, tzinfo=timezone.utc)
    answered, empty = uuid.uuid4(), uuid.uuid4()
    for audit_id, answers in ((answered, {item_id: dict(zip(FIELDS, row))
                                          for item_id, row in STORED.items()}), (empty, {})):
        db.session.execute(audits.insert().values(
            id=audit_id, location_id=organisation.locations["N1"],
            checklist_id="call_your_own_number", checklist_version=version,
            auditor_id=organisation.ids["manager"], started_at=moment, submitted_at=moment,
            received_at=moment, local_date=moment.date(), notes="", content_hash="0" * 64,
            score_percent=50.0, points=5.0, max_points=10.0, critical_failed=False,
            sections=[], answers=answers))
    db.session.commit()

    upgrade()
    # N/A (menu_easy), not applying (follow_up_promised) and never scored
    # (first_impression) are left out; greeting_own_name failed.
    assert db.session.get(Audit, answered).scored_items == {
        "answered": 0, "rings_to_answer": 0, "greeting_own_name": 1, "hold_seconds": 0}
    assert db.session.get(Audit, empty).scored_items == {}
    db.session.rollback()

    downgrade(revision="0007_report_indexes")
    assert "scored_items" not in {c["name"] for c in sa.inspect(db.engine).get_columns("audits")}
    assert db.session.scalar(sa.select(sa.func.count()).select_from(audits)) == 2


def test_0010_adds_the_digest_deliveries_and_takes_them_away(tmp_path):
    for _app in app_at("0010_digest", tmp_path):  # migrated up to 0010, then dropped
        inspector = sa.inspect(db.engine)
        assert {c["name"] for c in inspector.get_columns("digest_deliveries")} == {
            "id", "user_id", "week", "sent_at", "message_id"}
        assert [u["column_names"] for u in inspector.get_unique_constraints("digest_deliveries")] == [
            ["user_id", "week"]]
        downgrade(revision="0009_report_speed")
        assert not sa.inspect(db.engine).has_table("digest_deliveries")
