"""The app refuses to start without a strong SECRET_KEY (issue 15), except through
`make run`, which keeps a random one in instance/secret_key."""
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface

from audit_server import create_app
from audit_server.config import UnsafeConfiguration, secret_key_problem
from tests.conftest import ROOT, free_port

OLD_DEFAULT = "dev-only-not-secret"
VENV = Path(sys.executable).parent.parent


@pytest.mark.parametrize("key, problem", [
    (None, "SECRET_KEY is not set"),
    ("", "SECRET_KEY is not set"),
    (OLD_DEFAULT, "SECRET_KEY is a publicly known value"),
    ("test", "SECRET_KEY is a publicly known value"),
    ("ñandú-🔑-short-key", "SECRET_KEY is too short (17 characters)"),
    ("ab" * 32, "SECRET_KEY repeats a few characters (2 different ones)"),
    (b"\x00" * 40, "SECRET_KEY repeats a few characters (1 different ones)"),
])
def test_a_missing_public_or_weak_key_is_refused_in_one_line(key, problem):
    with pytest.raises(UnsafeConfiguration) as refusal:
        create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": key})
    message = str(refusal.value)
    assert message.startswith(problem + ": set it to a random value of 32 characters or more")
    assert "secrets.token_urlsafe(32)" in message and "\n" not in message


# Fixed ids: the keys are random, and every pytest-xdist worker must collect the same tests.
@pytest.mark.parametrize("key", [secrets.token_urlsafe(32), secrets.token_hex(16), os.urandom(32),
                                 "clave-de-sesión-ñandú-🔑-" + secrets.token_hex(8)],
                         ids=["urlsafe", "hex", "bytes", "accents-and-emoji"])
def test_a_random_key_is_accepted(key):
    assert secret_key_problem(key) is None
    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "SECRET_KEY": key})


def environment_without_a_key(**settings):
    env = {name: value for name, value in os.environ.items() if name != "SECRET_KEY"}
    return dict(env, **settings)


@pytest.mark.parametrize("settings, line", [
    ({}, "Momento will not start: SECRET_KEY is not set: set it to a random value"),
    ({"SECRET_KEY": OLD_DEFAULT}, "Momento will not start: SECRET_KEY is a publicly known value: "),
])
def test_gunicorn_stops_with_one_line_and_no_traceback(tmp_path, settings, line):
    env = environment_without_a_key(DATABASE_URL=f"sqlite:///{tmp_path}/momento.db", **settings)
    started = subprocess.run(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{free_port()}", "wsgi:app"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    output = started.stdout + started.stderr
    assert started.returncode != 0, output
    assert sum(text.startswith(line) for text in output.splitlines()) >= 1, output
    assert "Worker failed to boot" in output, output
    # No traceback of the app's (gunicorn itself may print one of its own when the second
    # worker's exit is reaped while the master stops; that is gunicorn's, not the refusal).
    assert "UnsafeConfiguration" not in output and "audit_server/" not in output, output


def test_a_flask_command_without_a_key_is_refused(tmp_path):
    env = environment_without_a_key(DATABASE_URL=f"sqlite:///{tmp_path}/momento.db")
    command = subprocess.run([sys.executable, "-m", "flask", "--app", "audit_server", "db", "current"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert command.returncode != 0
    assert command.stderr.strip().splitlines()[-1].endswith(
        "UnsafeConfiguration: SECRET_KEY is not set: set it to a random value of 32 characters or more, "
        "e.g. from python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"), command.stderr


def make(*args):
    return subprocess.run(["make", "--no-print-directory", f"VENV={VENV}", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60, check=True).stdout


def test_make_run_makes_a_private_key_once_and_starts_with_it(tmp_path):
    key_file = tmp_path / "instance" / "secret_key"
    make(f"SECRET_KEY_FILE={key_file}", str(key_file))
    key = key_file.read_text().strip()
    assert secret_key_problem(key) is None
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    make(f"SECRET_KEY_FILE={key_file}", str(key_file))  # made once: the sessions outlive a restart
    assert key_file.read_text().strip() == key

    # Every command of `make run` is given that key (unless SECRET_KEY is set) ...
    planned = make("-n", "run", f"SECRET_KEY_FILE={key_file}").splitlines()
    commands = [line for line in planned if "/bin/flask --app audit_server" in line]
    assert [c.split(" --app audit_server ")[1].split()[0] for c in commands] == [
        "db", "checklists", "seed-demo", "run"]
    prefix = f'SECRET_KEY="${{SECRET_KEY:-$(cat {key_file})}}" '
    assert all(command.startswith(prefix) for command in commands), commands
    # ... and the app starts with it where no SECRET_KEY is set: its first command runs.
    env = environment_without_a_key(DATABASE_URL=f"sqlite:///{tmp_path}/momento.db")
    upgrade = subprocess.run(["sh", "-c", commands[0]], cwd=ROOT, env=env, capture_output=True,
                             text=True, timeout=120, check=False)
    assert upgrade.returncode == 0, upgrade.stderr
    assert "Running upgrade" in upgrade.stderr


def signed_session(key, data):
    """A session cookie's value as Flask signs it with `key`."""
    signer = Flask("signer")
    signer.secret_key = key
    return SecureCookieSessionInterface().get_signing_serializer(signer).dumps(data)


def test_a_cookie_signed_with_the_old_default_key_is_refused(app, client, organisation):
    from audit_server.extensions import db
    from audit_server.models import User
    from audit_server.services import accounts

    sid = accounts.open_session(db.session.get(User, organisation.ids["admin"]))  # a signed-in session's row
    admin = {"_user_id": str(organisation.ids["admin"]), "_fresh": True, "sid": sid}
    client.set_cookie("session", signed_session(OLD_DEFAULT, admin))
    refused = client.get("/")
    assert refused.status_code == 302 and refused.headers["Location"].startswith("/login")
    assert client.get("/api/v1/locations").status_code == 401

    # The same cookie signed with the server's own key is accepted: the refusal is the key's.
    client.set_cookie("session", signed_session(app.secret_key, admin))
    assert client.get("/").status_code == 200
    assert client.get("/api/v1/locations").status_code == 200
