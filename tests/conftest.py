"""Fixtures: an app on a database of its own (SQLite, or PostgreSQL when
TEST_DATABASE_URL names a server), emptied after every test."""
import contextlib
import os
import re
import secrets
import uuid
from pathlib import Path

import boto3
import pytest
import sqlalchemy as sa
from flask.testing import FlaskClient
from flask_migrate import upgrade
from moto.server import ThreadedMotoServer

# The tests' processes run as a deployment does, with a strong SECRET_KEY of their own in
# the environment (create_app refuses to start without one): the apps the tests make,
# the gunicorn servers and the `flask` commands they start all read it.
TEST_SECRET_KEY = os.environ["SECRET_KEY"] = secrets.token_urlsafe(32)

# (imported after it: Config reads SECRET_KEY on import)
from audit_server import create_app
from audit_server.extensions import db
from audit_server.storage import S3PhotoStore
from tests.helpers import PASSWORD, Org, cannot_run_here, new_database
from tests.topology import AppServer, free_port  # noqa: F401  (free_port: for the tests)

BROWSER_TESTS = Path(__file__).resolve().parent / "browser"
# The Redis server the tests may use (a database of its own, number 15).
REDIS = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def pytest_collection_modifyitems(items):
    """The tests under tests/browser/ are marked `browser` (`make test` runs them apart)."""
    for item in items:
        if BROWSER_TESTS in item.path.parents:
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory):
    with new_database(tmp_path_factory.mktemp("db")) as url:
        yield url


class IsolatedClient(FlaskClient):
    """A test client whose every request runs in an app context of its own, as in
    production. Without it, requests made while a test holds an app context would
    share its `g`, so the first signed-in user would stick. A streamed response (an
    export) is read whole within that context, as a server reads it within the request's;
    `buffered=False` leaves it to be read later."""

    def open(self, *args, **kwargs):
        kwargs.setdefault("buffered", True)
        with self.application.app_context():
            return super().open(*args, **kwargs)


def app_config(database_url, **settings):
    """The settings of an app of the tests, on their database."""
    return {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": TEST_SECRET_KEY,
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "SESSION_COOKIE_SECURE": False,  # the browser tests talk plain http to 127.0.0.1
        "RATELIMIT_ENABLED": False,  # tests/api/test_throttling.py turns it on
        **settings,
    }


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    app = create_app(app_config(database_url))
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    app.test_client_class = IsolatedClient
    with app.app_context():
        upgrade()
    synced = app.test_cli_runner().invoke(args=["checklists", "sync"])  # as a deployment does
    assert synced.exit_code == 0, synced.output
    yield app
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def make_app(app, database_url, tmp_path):
    """Make another app on the tests' database (migrated and cleaned with `app`), with
    more settings, e.g. make_app(CHECKLISTS_DIR=folder) for other checklist files."""
    made = []

    def make(**settings):
        other = create_app(app_config(database_url, **settings))
        other.instance_path = str(tmp_path)
        other.test_client_class = IsolatedClient
        made.append(other)
        return other

    yield make
    for other in made:
        with other.app_context():
            db.engine.dispose()


def _dispose_engine(app):
    with app.app_context():
        db.engine.dispose()


@pytest.fixture
def fresh_app(tmp_path):
    """fresh_app(): another app on a new, migrated database of its own (dropped
    afterwards), for tests that compare what two databases end up holding."""
    with contextlib.ExitStack() as stack:
        def make():
            folder = tmp_path / f"fresh{len(made)}"
            folder.mkdir()
            other = create_app(app_config(stack.enter_context(new_database(folder))))
            other.instance_path = str(folder)
            with other.app_context():
                upgrade()
            stack.callback(_dispose_engine, other)
            assert other.test_cli_runner().invoke(args=["checklists", "sync"]).exit_code == 0
            made.append(other)
            return other

        made = []
        yield make


ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def gunicorn(log, env):
    """gunicorn with the project's gunicorn.conf.py (2 sync workers, as in bench/) serving
    wsgi:app over real HTTP with the settings of `env`, its output in the file `log`: its
    base URL once it answers."""
    server = AppServer(env, log)
    try:
        server.start()
    except RuntimeError as refusal:
        pytest.fail(str(refusal))
    try:
        yield server.url
    finally:
        server.stop()


def gunicorn_env(app, database_url, **settings):
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": TEST_SECRET_KEY,
            "SESSION_COOKIE_SECURE": "false", "RATELIMIT_ENABLED": "false",  # test_throttling.py: on
            "PHOTO_DIR": str(Path(app.instance_path) / "photos"), **settings}


@pytest.fixture(scope="session")
def gunicorn_server(app, database_url, tmp_path_factory):
    """The app served by gunicorn (2 sync workers, as in bench/) over real HTTP, on the
    tests' own database and photo folder: its base URL. Requests go through the whole
    stack (sockets, chunked reads of bodies, worker processes), as a phone's do."""
    with gunicorn(tmp_path_factory.mktemp("gunicorn") / "gunicorn.log", gunicorn_env(app, database_url)) as url:
        yield url


@pytest.fixture
def serve_with_gunicorn(app, database_url, tmp_path):
    """Serve the app with gunicorn as `gunicorn_server` does, with more settings
    (environment variables): `with serve_with_gunicorn(CHECKLISTS_DIR=...) as (url, log)`."""
    @contextlib.contextmanager
    def serve(**settings):
        log = tmp_path / "gunicorn.log"
        with gunicorn(log, gunicorn_env(app, database_url, **settings)) as url:
            yield url, log

    return serve


@pytest.fixture(scope="session")
def redis_url():
    """The Redis the tests may use; a test that needs it is skipped, loudly, when it is not
    reachable, and fails under CI=true, as the PostgreSQL run does (Makefile)."""
    import redis

    try:
        redis.Redis.from_url(REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        cannot_run_here(f"REDIS TESTS NOT RUN: no Redis at {REDIS} ({error}).")
    return REDIS


@pytest.fixture
def redis_prefix(redis_url):
    """A key prefix of this test's own in that Redis (parallel runs share it), emptied after."""
    import redis

    prefix = f"momento-test-{uuid.uuid4().hex}"
    yield prefix
    store = redis.Redis.from_url(redis_url)
    for key in store.scan_iter(f"*{prefix}*"):
        store.delete(key)

def empty_database(app):
    """Delete every row but the checklists' (immutable reference data synced at the start)."""
    with app.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                if table.name != "checklist_versions":
                    conn.execute(table.delete())


class _Kept:
    """What the tests' database holds beyond an empty one: nothing (None), the data of
    `kept_data(build)` (that `build`), or something unknown (a build that did not finish)."""

    build = None
    value = None
    rows = None  # the number of rows in each table once built


# Signing in adds a session (user_sessions): a read-only test may do it.
NOT_DATA = {"user_sessions"}


def row_counts(app):
    with app.app_context(), db.engine.connect() as conn:
        return {table.name: conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
                for table in db.metadata.sorted_tables if table.name not in NOT_DATA}


UNKNOWN = object()


@pytest.fixture(autouse=True)
def clean_database(request):
    """Every test starts on an empty database and empties it after itself; but a test
    marked `read_only` leaves what `kept_data` built there for the next read-only test
    that asks for the same, and the next other test empties it first."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    read_only = request.node.get_closest_marker("read_only") is not None
    if not read_only and _Kept.build is not None:
        empty_database(app)
        _Kept.build = _Kept.value = _Kept.rows = None
    yield
    if not read_only:
        empty_database(app)
    elif _Kept.rows is not None and row_counts(app) != _Kept.rows:
        empty_database(app)
        _Kept.build = _Kept.value = _Kept.rows = None
        pytest.fail("A test marked read_only added or deleted rows.")


@pytest.fixture
def kept_data(app, request):
    """kept_data(build): what build() returns (run in an app context, on the empty
    database), built once for the read-only tests that follow one another, so that
    tests that only read the same data do not each build it again. Only for tests
    marked `read_only` (they must change nothing in the database)."""
    assert request.node.get_closest_marker("read_only"), "kept_data is for tests marked read_only"

    def keep(build):
        if _Kept.build is not build:
            if _Kept.build is not None:
                empty_database(app)
            _Kept.build, _Kept.value, _Kept.rows = UNKNOWN, None, None
            with app.app_context():
                value = build(app)
            _Kept.build, _Kept.value, _Kept.rows = build, value, row_counts(app)
        return _Kept.value

    return keep


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class S3Server(ThreadedMotoServer):
    """moto's S3 served over real HTTP on a loopback port: boto3 (of the tests, of a
    `flask` command, of gunicorn's workers) talks to it as to any S3-compatible endpoint.
    stop() closes its socket too, so that a stopped store refuses connections (moto's own
    stop leaves it listening, unanswered; it answers every request with Connection:
    close, so no client keeps a connection to it across a stop); start() serves again on
    the same port, with the same buckets and objects (they live in this process)."""

    def __init__(self):
        super().__init__(ip_address="127.0.0.1", port=free_port(), verbose=False)
        self.url = f"http://127.0.0.1:{self._port}"

    def stop(self):
        super().stop()
        self._server.server_close()

    @contextlib.contextmanager
    def stopped(self):
        """The store down for the block (connections refused), back after it."""
        self.stop()
        try:
            yield
        finally:
            self.start()


@pytest.fixture(scope="session")
def s3_server():
    server = S3Server()
    server.start()
    yield server
    server.stop()


S3_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "momento-tests", "AWS_SECRET_ACCESS_KEY": "momento-tests-secret"}


@pytest.fixture
def s3_bucket(s3_server, monkeypatch):
    """A bucket of its own on `s3_server` for this test (emptied and deleted after it),
    with the credentials in the environment: its name."""
    for variable, value in S3_CREDENTIALS.items():
        monkeypatch.setenv(variable, value)
    bucket = f"momento-photos-{secrets.token_hex(6)}"
    client = boto3.client("s3", endpoint_url=s3_server.url, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    yield bucket
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            client.delete_object(Bucket=bucket, Key=item["Key"])
    client.delete_bucket(Bucket=bucket)


@pytest.fixture
def s3_settings(s3_server, s3_bucket):
    """The settings (environment variables, as strings) of a deployment whose photos
    live in the test's bucket."""
    return {"PHOTO_STORE": "s3", "S3_ENDPOINT_URL": s3_server.url, "S3_BUCKET": s3_bucket,
            "S3_REGION": "us-east-1", **S3_CREDENTIALS}


@pytest.fixture
def s3_client(s3_server, s3_bucket):
    """A client of the live S3 server, for looking at the test's bucket from outside."""
    return boto3.client("s3", endpoint_url=s3_server.url, region_name="us-east-1")


@pytest.fixture
def s3_store(s3_server, s3_bucket):
    """A store in the test's bucket, with a client of its own (not `s3_client`)."""
    return S3PhotoStore(boto3.client("s3", endpoint_url=s3_server.url, region_name="us-east-1"),
                        s3_bucket)


@pytest.fixture
def organisation(app):
    """The small organisation; the test runs in an app context (requests get their own)."""
    with app.app_context():
        yield Org(app)


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

    def login(self, email, password=PASSWORD, **kwargs):
        return self.post("/login", {"email": email, "password": password}, **kwargs)

    def post(self, path, data=None, **kwargs):
        return self.open("POST", path, data=dict(data or {}, csrf_token=self.csrf_token()), **kwargs)


@pytest.fixture
def web(client):
    return WebSession(client)


@pytest.fixture
def web_on():
    """A WebSession on another app (one make_app made): web_on(app)."""
    return lambda app: WebSession(app.test_client())
