"""`flask doctor` checks a deployment and says each problem in one line: the database and
its migrations, the checklists, the photo store, the secret key, the rate-limit storage and
the mail server; exit status 1 when a check fails."""
import json
import os
import subprocess
import sys

from aiosmtpd.controller import Controller
from alembic.script import ScriptDirectory

from tests.conftest import ROOT, TEST_SECRET_KEY, free_port
from tests.helpers import new_database

# The latest migration, which a ready database is at.
[HEAD] = ScriptDirectory(str(ROOT / "migrations")).get_heads()


def doctor(app):
    with app.app_context():
        result = app.test_cli_runner().invoke(args=["doctor"])
    lines = {line.split(":", 1)[0].split(None, 1)[1]: line for line in result.output.splitlines()
             if line[:4].strip() in ("ok", "warn", "FAIL", "--")}
    return result.exit_code, lines


def status(line):
    return line.split(None, 1)[0]


def test_a_ready_deployment_passes_with_warnings_for_what_it_could_do_better(make_app, tmp_path):
    code, lines = doctor(make_app(PHOTO_DIR=str(tmp_path / "photos")))
    assert code == 0, lines
    assert list(lines) == ["database", "checklists", "photo store", "secret key",
                           "rate-limit storage", "mail"]
    assert status(lines["database"]) == "ok" and f"migrations at head ({HEAD})" in lines["database"]
    assert status(lines["checklists"]) == "ok" and "every version stored" in lines["checklists"]
    assert status(lines["photo store"]) == "ok"
    assert not [path for path in (tmp_path / "photos").rglob("*") if path.is_file()]  # its test blob is gone
    assert status(lines["secret key"]) == "warn" and "SESSION_COOKIE_SECURE is false" in lines["secret key"]
    assert status(lines["rate-limit storage"]) == "warn" and "throttling of sign-ins is off" in lines["rate-limit storage"]
    assert status(lines["mail"]) == "warn" and "not configured" in lines["mail"]


def test_a_deployment_with_every_service_set_up_and_reachable(make_app, redis_url, s3_settings, s3_client):
    smtp = Controller(object(), hostname="127.0.0.1", port=free_port())
    smtp.start()
    try:
        code, lines = doctor(make_app(
            **s3_settings, SESSION_COOKIE_SECURE=True, RATELIMIT_ENABLED=True,
            RATELIMIT_STORAGE_URI=redis_url, MAIL_SERVER="127.0.0.1", MAIL_PORT=smtp.port,
            MAIL_FROM="Momento <digest@momento.example>"))
    finally:
        smtp.stop()
    assert code == 0
    assert {name: status(line) for name, line in lines.items()} == dict.fromkeys(lines, "ok")
    assert f"{redis_url} reachable" in lines["rate-limit storage"]
    assert "digests come from Momento <digest@momento.example>" in lines["mail"]
    assert f"bucket {s3_settings['S3_BUCKET']} at {s3_settings['S3_ENDPOINT_URL']}" in lines["photo store"]
    assert s3_client.list_objects_v2(Bucket=s3_settings["S3_BUCKET"]).get("KeyCount") == 0  # its test blob is gone


def test_each_problem_is_one_failing_line(make_app, tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the photo folder should be")
    checklists = tmp_path / "checklists"
    checklists.mkdir()
    walk_in = json.loads((ROOT / "checklists" / "five_second_walk_in.json").read_text())
    walk_in["title"]["es"] = "Entrada de cinco segundos (versión nueva) 🚪"
    (checklists / "five_second_walk_in.json").write_text(json.dumps(walk_in, ensure_ascii=False))
    (checklists / "broken.json").write_text('{"id": "broken"')
    code, lines = doctor(make_app(
        PHOTO_DIR=str(blocked), CHECKLISTS_DIR=str(checklists), RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0", MAIL_SERVER="127.0.0.1",
        MAIL_PORT=free_port(), MAIL_FROM="digest@momento.example"))
    assert code == 1
    assert status(lines["database"]) == "ok"
    assert status(lines["checklists"]) == "FAIL" and "not valid: broken.json ($: not valid JSON" in lines["checklists"]
    assert status(lines["photo store"]) == "FAIL" and f"folder {blocked} is not writable" in lines["photo store"]
    assert status(lines["rate-limit storage"]) == "FAIL" and "redis://127.0.0.1:9/0" in lines["rate-limit storage"]
    assert status(lines["mail"]) == "FAIL" and "does not accept us (ConnectionRefusedError" in lines["mail"]

    (checklists / "broken.json").unlink()
    code, lines = doctor(make_app(CHECKLISTS_DIR=str(checklists), PHOTO_DIR=str(tmp_path / "p"),
                                  MAIL_SERVER="127.0.0.1", MAIL_PORT="smtp"))
    assert code == 1
    assert status(lines["checklists"]) == "FAIL"
    assert "not stored yet: five_second_walk_in.json: run `flask checklists sync`" in lines["checklists"]
    assert status(lines["mail"]) == "FAIL" and "MAIL_PORT: must be a port number, not 'smtp'." in lines["mail"]


def run_doctor(database_url, tmp_path, **settings):
    """`flask --app audit_server doctor` as an operator runs it, with the environment's settings."""
    env = {**os.environ, "SECRET_KEY": TEST_SECRET_KEY, "DATABASE_URL": database_url,
           "PHOTO_DIR": str(tmp_path / "photos"), "MAIL_SERVER": "", **settings}
    return subprocess.run([sys.executable, "-m", "flask", "--app", "audit_server", "doctor"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_a_database_not_migrated_or_not_there_from_the_command_line(tmp_path):
    with new_database(tmp_path) as url:
        result = run_doctor(url, tmp_path)
    assert result.returncode == 1
    [database] = [line for line in result.stdout.splitlines() if line.startswith("FAIL  database:")]
    assert database.endswith(f"is at no migration, not at the latest migration {HEAD}: run `flask db upgrade`")
    assert "--    checklists: not checked: the database is not ready" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr

    port = free_port()  # nothing listens there
    result = run_doctor(f"postgresql://momento:s3cret@127.0.0.1:{port}/momento", tmp_path)
    assert result.returncode == 1
    assert f"FAIL  database: postgresql+psycopg://momento:***@127.0.0.1:{port}/momento is not reachable (" \
        in result.stdout
    assert "s3cret" not in result.stdout + result.stderr
    assert "1 of 6 checks failed." in result.stderr


def test_make_serve_starts_no_server_on_a_deployment_that_fails_its_checks(tmp_path):
    with new_database(tmp_path) as url:
        env = {**os.environ, "SECRET_KEY": TEST_SECRET_KEY, "DATABASE_URL": url, "MAIL_SERVER": "",
               "PHOTO_DIR": str(tmp_path / "photos"), "GUNICORN_BIND": f"127.0.0.1:{free_port()}"}
        result = subprocess.run(["make", "--no-print-directory", "serve"], cwd=ROOT, env=env,
                                capture_output=True, text=True, timeout=120)
    assert result.returncode != 0
    assert "FAIL  database:" in result.stdout and "run `flask db upgrade`" in result.stdout
    assert "gunicorn" not in result.stdout.split("FAIL  database:")[1]  # it never got that far
