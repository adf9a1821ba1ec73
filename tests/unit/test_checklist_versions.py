"""Checklist versions are stored by `flask checklists sync`, or when first needed; never
when the app starts or runs another command."""
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from audit_server import create_app
from audit_server.extensions import db
from audit_server.models import ChecklistVersion
from audit_server.services import checklists
from tests.helpers import PHONE_CALL, WALK_IN, audit_body, checklist_folder, new_database, new_version

ROOT = Path(__file__).resolve().parents[2]
SYNC = checklists.SYNC_COMMAND


@pytest.fixture
def writes():
    """Every INSERT, UPDATE or DELETE any engine of this process sends, while the test runs."""
    sent = []

    def record(_connection, _cursor, statement, *_):
        if statement.lstrip().split(None, 1)[0].upper() in ("INSERT", "UPDATE", "DELETE"):
            sent.append(statement)

    sa.event.listen(sa.engine.Engine, "before_cursor_execute", record)
    yield sent
    sa.event.remove(sa.engine.Engine, "before_cursor_execute", record)


def stored(app, checklist):
    with app.app_context():
        return db.session.get(ChecklistVersion, (checklist.id, checklist.version)) is not None


def test_starting_and_commands_other_than_sync_write_nothing(make_app, tmp_path, writes):
    folder = checklist_folder(tmp_path / "checklists", new_version(WALK_IN), new_version(PHONE_CALL))
    app = make_app(CHECKLISTS_DIR=str(folder))
    runner = app.test_cli_runner()
    check = runner.invoke(args=["checklists", "check"])
    assert check.exit_code == 0, check.output
    assert check.output.count(f"not stored yet: run `{SYNC}`") == 2
    assert runner.invoke(args=["photos", "verify"]).exit_code == 0
    assert writes == []
    assert not any(stored(app, c) for c in app.extensions["momento.checklists"].values())

    synced = runner.invoke(args=["checklists", "sync"])
    assert synced.exit_code == 0, synced.output
    assert synced.output.count("stored version") == 2 and len(writes) == 2
    assert all(stored(app, c) for c in app.extensions["momento.checklists"].values())
    again = runner.invoke(args=["checklists", "sync"])
    assert again.output.count("was already stored") == 2 and len(writes) == 2
    assert "not stored yet" not in runner.invoke(args=["checklists", "check"]).output


def flask(database_url, folder, *args):
    """Run a `flask` command in a process of its own; its output."""
    env = dict(os.environ, DATABASE_URL=database_url, CHECKLISTS_DIR=str(folder))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "audit_server", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=120, check=True).stdout


def test_flask_commands_in_their_own_processes_store_nothing(app, database_url, tmp_path):
    walk_in = checklists.Checklist.of(new_version(WALK_IN))
    folder = checklist_folder(tmp_path / "checklists", walk_in.definition)
    assert "(head)" in flask(database_url, folder, "db", "current")
    assert f"not stored yet: run `{SYNC}`" in flask(database_url, folder, "checklists", "check")
    assert not stored(app, walk_in)
    assert "stored version" in flask(database_url, folder, "checklists", "sync")
    assert stored(app, walk_in)


def test_sync_stores_the_valid_files_and_fails_on_the_others(make_app, tmp_path):
    walk_in = new_version(WALK_IN)
    folder = checklist_folder(tmp_path / "checklists", walk_in)
    (folder / "broken.json").write_text('{"id": "broken", ', encoding="utf-8")
    app = make_app(CHECKLISTS_DIR=str(folder))
    result = app.test_cli_runner().invoke(args=["checklists", "sync"])
    assert result.exit_code == 1
    assert "broken.json: $: not valid JSON" in result.output
    assert "1 of 2 checklist files have errors." in result.output
    assert stored(app, checklists.Checklist.of(walk_in))


def test_check_without_tables_says_it_cannot_tell(tmp_path):
    with new_database(tmp_path) as url:
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url})
        result = app.test_cli_runner().invoke(args=["checklists", "check"])
        with app.app_context():
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    assert "cannot tell which versions are stored" in result.output
    assert "five_second_walk_in.json: ok (version " in result.output


def test_syncs_run_at_once_store_each_version_once(app, database_url, tmp_path):
    definitions = [new_version(WALK_IN), new_version(PHONE_CALL)]
    folder = checklist_folder(tmp_path / "checklists", *definitions)
    env = dict(os.environ, DATABASE_URL=database_url, CHECKLISTS_DIR=str(folder))
    syncs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "audit_server", "checklists", "sync"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
             for _ in range(4)]
    outputs = [sync.communicate(timeout=120)[0] for sync in syncs]
    assert [sync.returncode for sync in syncs] == [0] * 4, outputs
    for definition in definitions:
        checklist = checklists.Checklist.of(definition)
        lines = [line for output in outputs for line in output.splitlines() if checklist.version in line]
        assert sum("stored version" in line for line in lines) == 1, outputs
        assert sum("was already stored" in line for line in lines) == 3, outputs
        with app.app_context():
            assert db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistVersion).where(
                ChecklistVersion.checklist_id == checklist.id,
                ChecklistVersion.version == checklist.version)) == 1


def test_a_version_stored_meanwhile_by_another_process_is_no_error(app):
    checklist = checklists.Checklist.of(new_version(WALK_IN))
    with app.app_context():
        with db.engine.connect() as connection:
            assert checklists._insert_version(connection, checklist) is True
        with db.engine.connect() as connection:  # the other process, a moment later
            assert checklists._insert_version(connection, checklist) is False
    assert stored(app, checklist)


def test_an_audit_against_a_file_never_synced_stores_it_and_says_so(make_app, organisation, tmp_path, caplog):
    walk_in = checklists.Checklist.of(new_version(WALK_IN))
    app = make_app(CHECKLISTS_DIR=str(checklist_folder(tmp_path / "checklists", walk_in.definition)))
    client = app.test_client()
    body = audit_body(organisation.locations["N1"])
    with caplog.at_level(logging.WARNING):
        first = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
        replay = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert (first.status_code, replay.status_code) == (201, 200), first.get_json()
    assert first.get_json()["checklist_version"] == walk_in.version
    assert stored(app, walk_in)
    [warning] = [r.getMessage() for r in caplog.records if walk_in.version in r.getMessage()]
    assert warning.startswith(f"checklist {WALK_IN}: version {walk_in.version} of its file was not stored yet")
    assert f"run `{SYNC}`" in warning


def test_gunicorn_workers_store_nothing_at_start_and_an_audit_stores_its_version(
        app, serve_with_gunicorn, organisation, tmp_path):
    """Through a real server: its two workers start on a checklist file never synced and
    write nothing; the first audit against it stores the version, and the log says so."""
    walk_in = checklists.Checklist.of(new_version(WALK_IN))
    folder = checklist_folder(tmp_path / "checklists", walk_in.definition)
    headers = organisation.headers("manager")
    body = audit_body(organisation.locations["N1"])
    with serve_with_gunicorn(CHECKLISTS_DIR=str(folder)) as (url, log):
        assert not stored(app, walk_in)
        served = requests.get(f"{url}/api/v1/checklists/{WALK_IN}", headers=headers, timeout=30)
        assert served.status_code == 200 and served.json()["version"] == walk_in.version
        first = requests.post(f"{url}/api/v1/audits", json=body, headers=headers, timeout=30)
        replay = requests.post(f"{url}/api/v1/audits", json=body, headers=headers, timeout=30)
        assert (first.status_code, replay.status_code) == (201, 200), first.text
        assert first.json()["checklist_version"] == walk_in.version
        assert first.json()["id"] == replay.json()["id"] == body["id"]
    assert stored(app, walk_in)
    warnings = [line for line in log.read_text().splitlines() if walk_in.version in line]
    assert len(warnings) == 1 and f"run `{SYNC}`" in warnings[0], log.read_text()
