"""Fixtures: an app on a database of its own (SQLite, or PostgreSQL when
TEST_DATABASE_URL names a server), emptied after every test."""
import contextlib
import os
import re
import uuid
from datetime import datetime, timedelta, timezone

import boto3
import psycopg
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from moto import mock_aws

from audit_server import create_app
from audit_server.extensions import db
from audit_server.services import accounts, org
from audit_server.storage import S3PhotoStore

PASSWORD = "correct horse battery"


@contextlib.contextmanager
def new_database(directory):
    """The URL of an empty database of its own, dropped afterwards: on the PostgreSQL
    server TEST_DATABASE_URL names, else a SQLite file in `directory`."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{directory / 'test.db'}"
        return
    url = sa.make_url(server).set(drivername="postgresql")
    name = f"momento_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in
    production. Without it, requests made while a test holds an app context would
    share its `g`, so the first signed-in user would stick."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SESSION_COOKIE_SECURE": False,  # the browser tests talk plain http to 127.0.0.1
    })
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(autouse=True)
def clean_database(request):
    yield
    if "app" not in request.fixturenames:
        return
    app = request.getfixturevalue("app")
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name != "checklist_versions":  # immutable reference data
                    conn.execute(table.delete())


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def s3_client(monkeypatch):
    """A client of moto's in-memory S3 with an empty bucket "momento-photos"."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("s3", region_name="us-east-1")
        client.create_bucket(Bucket="momento-photos")
        yield client


@pytest.fixture
def s3_store(s3_client):
    return S3PhotoStore(s3_client, "momento-photos")


class Org:
    """A small organisation: regions N and S; locations N1, N2 (in N) and S1 (in S);
    an admin, a regional manager of N, a manager of N1 and a manager of S1."""

    PASSWORD = PASSWORD

    def __init__(self, app):
        self.app = app
        n = org.create_region("N", "North")
        s = org.create_region("S", "South")
        org.import_locations(
            "code,name,region,address,phone,timezone\n"
            "N1,North One,N,Street 1,+34 900 000 001,Europe/Madrid\n"
            "N2,North Two,N,Street 2,+34 900 000 002,Europe/Madrid\n"
            "S1,South One,S,Street 3,+1 555 000 0003,America/Mexico_City\n"
        )
        self.regions = {"N": n.id, "S": s.id}
        from audit_server.models import Location
        self.locations = {loc.code: loc.id for loc in db.session.scalars(sa.select(Location))}
        self.users = {
            "admin": accounts.create_user("admin@example.com", "admin", PASSWORD),
            "regional": accounts.create_user("regional@example.com", "regional", PASSWORD, ["N"]),
            "manager": accounts.create_user("manager@example.com", "manager", PASSWORD, [], ["N1"]),
            "manager_s": accounts.create_user("south@example.com", "manager", PASSWORD, [], ["S1"]),
        }
        self.emails = {role: user.email for role, user in self.users.items()}
        self.ids = {role: user.id for role, user in self.users.items()}
        self._tokens = {}

    def headers(self, role):
        """Authorization headers for one of the users."""
        if role not in self._tokens:
            with self.app.app_context():
                user = db.session.merge(self.users[role])
                self._tokens[role], _ = accounts.issue_token(user, 1)
        return {"Authorization": f"Bearer {self._tokens[role]}"}


@pytest.fixture
def organisation(app):
    """The small organisation; the test runs in an app context (requests get their own)."""
    with app.app_context():
        yield Org(app)


def best_walk_in():
    return {
        "first_noticed": {"value": "A tidy shop and a smile"},
        "greeted_within_5s": {"value": True}, "smile": {"value": True},
        "staff_available": {"value": True}, "floor_clean": {"value": True},
        "entrance_clear": {"value": True}, "lighting_signage": {"value": True},
        "queue_managed": {"value": True}, "smell_noise": {"value": True},
        "overall_impression": {"value": 5},
    }


def best_phone():
    return {
        "answered": {"value": True}, "rings_to_answer": {"value": 2},
        "menu_easy": {"value": True}, "greeting_business_name": {"value": True},
        "greeting_own_name": {"value": True}, "courtesy": {"value": 5},
        "reached_person": {"value": True}, "transfers": {"value": 0},
        "warm_transfer": {"value": "na"}, "hold_seconds": {"value": 10},
        "not_my_department": {"value": False}, "owned": {"value": True},
        "follow_up_promised": {"value": True}, "useful": {"value": 5},
        "first_impression": {"value": "Friendly"}, "call_seconds": {"value": 95},
    }


def audit_body(location_id, checklist_id="five_second_walk_in", answers=None, **extra):
    started = datetime.now(timezone.utc) - timedelta(minutes=3)
    body = {
        "id": str(uuid.uuid4()),
        "location_id": location_id,
        "checklist_id": checklist_id,
        "started_at": started.isoformat(),
        "submitted_at": (started + timedelta(minutes=2)).isoformat(),
        "answers": answers if answers is not None else (
            best_walk_in() if checklist_id == "five_second_walk_in" else best_phone()),
        "notes": "",
    }
    body.update(extra)
    return body


class WebSession:
    """A test client used like a browser: it signs in through the login form and
    sends every form with the CSRF token of the page it came from. Each request runs
    in an app context of its own, as in production (the signed-in user is not
    remembered in `g` from one request to the next)."""

    def __init__(self, client):
        self.client = client

    def open(self, method, path, **kwargs):
        with self.client.application.app_context():
            return self.client.open(path, method=method, **kwargs)

    def get(self, path, **kwargs):
        return self.open("GET", path, **kwargs)

    def csrf_token(self, path="/login"):
        page = self.get(path, follow_redirects=True).get_data(as_text=True)
        return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)

    def login(self, email, password=PASSWORD):
        return self.post("/login", {"email": email, "password": password})

    def post(self, path, data=None, **kwargs):
        return self.open("POST", path, data=dict(data or {}, csrf_token=self.csrf_token()), **kwargs)


@pytest.fixture
def web(client):
    return WebSession(client)
