"""The database's pool and timeouts come from the DB_* settings, and a database that cannot
answer (unreachable, dropped connections, a statement past statement_timeout, no pooled
connection free in time) is a 503 with Retry-After (JSON for the API, a page in the reader's
language for people), with nothing half-written, and the app recovers by itself.
See docs/postgresql.md."""
import os
import re
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Audit, CorrectiveAction
from tests.conftest import WebSession, free_port, gunicorn, gunicorn_env
from tests.db_proxy import DatabaseProxy
from tests.helpers import audit_body, failing

ON_POSTGRESQL = pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL"), reason="PostgreSQL only (TEST_DATABASE_URL): SQLite has no server, connections or "
           "statement_timeout")
ON_SQLITE = pytest.mark.skipif(bool(os.environ.get("TEST_DATABASE_URL")), reason="SQLite only: keeps SQLAlchemy's own pool")


def unreachable_url(database_url):
    """A database URL nothing answers at: a PostgreSQL port nobody listens on, or a
    SQLite file in a folder that does not exist."""
    if database_url.startswith("sqlite"):
        return "sqlite:////nonexistent-folder-of-momento/ñandú.db"
    return sa.make_url(database_url).set(host="127.0.0.1", port=free_port()).render_as_string(
        hide_password=False)


def assert_unavailable_json(response):
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.is_json
    error = response.get_json()["error"]
    assert error["code"] == "unavailable"
    assert "Retry-After" in error["message"]
    assert error["fields"] == {}


# --- the settings reach the engine and its connections ---------------------------------------

@ON_POSTGRESQL
def test_the_pool_and_the_statement_timeout_reach_each_connection(make_app):
    other = make_app(DB_POOL_SIZE=3, DB_MAX_OVERFLOW=4, DB_POOL_TIMEOUT=7,
                     DB_STATEMENT_TIMEOUT_MS=1234, DB_CONNECT_TIMEOUT=2)
    with other.app_context():
        pool = db.engine.pool
        assert (pool.size(), pool._max_overflow, pool._timeout) == (3, 4, 7)
        assert db.session.scalar(sa.text("SHOW statement_timeout")) == "1234ms"
        with db.engine.connect() as second:  # every connection, not only the first
            assert second.scalar(sa.text("SHOW statement_timeout")) == "1234ms"
        dbapi_connection = db.session.connection().connection.dbapi_connection
        assert dbapi_connection.info.get_parameters()["connect_timeout"] == "2"


@ON_POSTGRESQL
def test_a_statement_timeout_of_zero_leaves_statements_unlimited(make_app):
    other = make_app(DB_STATEMENT_TIMEOUT_MS=0)
    with other.app_context():
        assert db.session.scalar(sa.text("SHOW statement_timeout")) == "0"


@ON_POSTGRESQL
def test_a_statement_running_past_the_timeout_is_cancelled(make_app):
    other = make_app(DB_STATEMENT_TIMEOUT_MS=200)
    with other.app_context():
        with pytest.raises(sa.exc.OperationalError, match="statement timeout"):
            db.session.execute(sa.text("SELECT pg_sleep(2)"))
        db.session.rollback()
        assert db.session.scalar(sa.text("SELECT 1 + 1")) == 2  # the connection goes on


@ON_SQLITE
def test_sqlite_keeps_its_own_pool_and_has_no_statement_timeout(make_app):
    other = make_app(DB_POOL_SIZE=3, DB_STATEMENT_TIMEOUT_MS=1234)
    options = other.config["SQLALCHEMY_ENGINE_OPTIONS"]
    assert "pool_size" not in options and "connect_args" not in options
    assert options["pool_pre_ping"] is True
    with other.app_context():
        assert db.session.scalar(sa.text("SELECT 1 + 1")) == 2


# --- a database that cannot answer: 503 with Retry-After -------------------------------------

def test_an_unreachable_database_answers_the_api_503_with_retry_after(make_app, database_url):
    down = make_app(SQLALCHEMY_DATABASE_URI=unreachable_url(database_url))
    client = down.test_client()
    r = client.post("/api/v1/auth/token", json={"email": "gestora@example.com",
                                                "password": "contraseña-ñandú-🦩"})
    assert_unavailable_json(r)
    r = client.get("/api/v1/audits?page=1", headers={"Authorization": "Bearer " + "x" * 43})
    assert_unavailable_json(r)


@pytest.mark.parametrize("language, words", [
    ("es", "no puede llegar a su base de datos"),
    ("en", "cannot reach its database"),
])
def test_an_unreachable_database_shows_people_a_page_in_their_language(make_app, database_url,
                                                                       language, words):
    down = make_app(SQLALCHEMY_DATABASE_URI=unreachable_url(database_url))
    web = WebSession(down.test_client())
    headers = {"Accept-Language": language}
    r = web.post("/login", {"email": "gestora@example.com", "password": "contraseña-ñandú"},
                 headers=headers)
    assert r.status_code == 503
    assert r.headers["Retry-After"] == "5"
    assert r.mimetype == "text/html"
    page = r.get_data(as_text=True)
    assert words in page
    assert re.search(r'<code class="request-id">[0-9a-f-]{8,}</code>', page)


@ON_POSTGRESQL
def test_a_signed_in_person_sees_the_busy_page_and_then_their_pages_again(make_app, database_url,
                                                                           organisation):
    """Their user row cannot be read while the database is away: the page is drawn as
    for someone signed out, and once it is back they are still signed in."""
    server = sa.make_url(database_url)
    with DatabaseProxy(server.host, server.port or 5432) as proxy:
        other = make_app(SQLALCHEMY_DATABASE_URI=proxy.url_of(database_url), DB_CONNECT_TIMEOUT=2)
        web = WebSession(other.test_client())
        assert web.login(organisation.emails["manager"]).status_code == 302
        assert web.get("/").status_code == 200
        proxy.cut()
        r = web.get("/", headers={"Accept-Language": "es"})
        assert r.status_code == 503 and r.headers["Retry-After"] == "5"
        page = r.get_data(as_text=True)
        assert "Momento está ocupado" in page and "momento-user" not in page
        proxy.restore()
        r = web.get("/")
        assert r.status_code == 200
        assert 'name="momento-user"' in r.get_data(as_text=True)


@ON_POSTGRESQL
def test_a_request_waiting_past_the_statement_timeout_answers_503(make_app, organisation):
    """A real query of the app (the audit list) kept waiting for a lock: cancelled by
    statement_timeout, answered 503; the same request succeeds once the lock is gone."""
    other = make_app(DB_STATEMENT_TIMEOUT_MS=300)
    client = other.test_client()
    headers = organisation.headers("manager")
    assert client.get("/api/v1/audits", headers=headers).status_code == 200
    with other.app_context(), db.engine.connect() as locker:
        locker.execute(sa.text("SET LOCAL statement_timeout = 0"))
        locker.execute(sa.text("LOCK TABLE audits IN ACCESS EXCLUSIVE MODE"))
        assert_unavailable_json(client.get("/api/v1/audits", headers=headers))
        locker.rollback()
    assert client.get("/api/v1/audits", headers=headers).status_code == 200


@ON_POSTGRESQL
def test_no_pooled_connection_free_in_time_answers_503(make_app, organisation):
    other = make_app(DB_POOL_SIZE=1, DB_MAX_OVERFLOW=0, DB_POOL_TIMEOUT=1)
    client = other.test_client()
    headers = organisation.headers("manager")
    with other.app_context():
        held = db.engine.connect()  # the pool's only connection
        try:
            assert_unavailable_json(client.get("/api/v1/audits", headers=headers))
        finally:
            held.close()
    assert client.get("/api/v1/audits", headers=headers).status_code == 200


# --- an outage through gunicorn: cut the database off, then back ------------------------------

class Outbox:
    """A phone's outbox: sends each audit until it is stored (201, or 200: stored before),
    waiting after a 503 as its Retry-After says (shortened for the test), the same audit
    (same id) each time."""

    def __init__(self, url, headers, bodies):
        self.url, self.headers, self.bodies = url, headers, bodies
        self.answers = []  # (status, Retry-After, error code) of every request
        self.sent = 0  # audits stored
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self):
        for body in self.bodies:
            while not self.stop.is_set():
                r = requests.post(f"{self.url}/api/v1/audits", json=body, headers=self.headers,
                                  timeout=30)
                code = r.json().get("error", {}).get("code") if r.status_code >= 400 else None
                self.answers.append((r.status_code, r.headers.get("Retry-After"), code))
                if r.status_code in (200, 201):
                    self.sent += 1
                    break
                time.sleep(min(float(r.headers.get("Retry-After") or 1), 0.3))

    def wait_for(self, condition, seconds):
        deadline = time.monotonic() + seconds
        while not condition() and time.monotonic() < deadline and self.thread.is_alive():
            time.sleep(0.05)
        return condition()


@ON_POSTGRESQL
def test_an_outage_answers_503_and_the_app_recovers_without_a_restart(app, database_url,
                                                                      organisation, tmp_path):
    location = organisation.locations["N1"]
    # Audits that open corrective actions too: each is several tables' rows in one write.
    bodies = [audit_body(location, answers=failing("smile", "floor_clean") if n % 3 == 0 else None,
                         notes=f"Visita nº {n} — cola larga, café frío ☕") for n in range(40)]
    server = sa.make_url(database_url)
    with DatabaseProxy(server.host, server.port or 5432) as proxy:
        env = gunicorn_env(app, proxy.url_of(database_url), DB_POOL_TIMEOUT="2",
                           DB_CONNECT_TIMEOUT="2")
        with gunicorn(tmp_path / "gunicorn.log", env) as url:
            outbox = Outbox(url, organisation.headers("manager"), bodies)
            outbox.thread.start()
            assert outbox.wait_for(lambda: outbox.sent >= 5, 60)
            proxy.cut()
            assert outbox.wait_for(lambda: sum(a[0] == 503 for a in outbox.answers) >= 3, 30)
            time.sleep(2)  # down for a few seconds
            down_answers = len(outbox.answers)
            proxy.restore()
            outbox.thread.join(120)
            assert not outbox.thread.is_alive()
            # the same server (no restart) answers again, through new connections
            assert requests.get(f"{url}/api/v1/audits?per_page=1", timeout=10,
                                headers=organisation.headers("manager")).status_code == 200
    failed = [a for a in outbox.answers if a[0] not in (200, 201)]
    assert failed and all(a == (503, "5", "unavailable") for a in failed), failed
    assert outbox.sent == len(bodies)
    assert all(a[0] in (200, 201) for a in outbox.answers[down_answers + 2:])
    ids = [uuid.UUID(b["id"]) for b in bodies]
    with app.app_context():
        stored = db.session.execute(
            sa.select(Audit.id, Audit.notes, sa.func.count()).where(Audit.id.in_(ids))
            .group_by(Audit.id, Audit.notes)).all()
        assert len(stored) == len(bodies)  # every audit, once (the id is the primary key)
        assert {row.notes for row in stored} == {b["notes"] for b in bodies}
        assert db.session.scalar(sa.select(sa.func.count()).select_from(Audit)) == len(bodies)
        documents = db.session.scalars(sa.select(Audit.answers)).all()
        assert all(len(answers) == 10 for answers in documents)  # none half-written
        opened = db.session.execute(sa.select(CorrectiveAction.item_id, sa.func.count())
                                    .group_by(CorrectiveAction.item_id)).all()
        # the first failing audit opened one action per item, the later ones linked to it
        assert sorted(opened) == [("floor_clean", 1), ("smile", 1)]
        linked = db.session.scalar(sa.text("SELECT count(*) FROM action_audits"))
        assert linked == 2 * len([b for b in bodies if b["answers"]["smile"]["value"] is False])
