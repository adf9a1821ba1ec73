"""PostgreSQL outages under load: phones keep sending audits while the database goes away
and comes back; every audit is stored exactly once, and the server recovers by itself.

    .venv/bin/python bench/faults_db.py [--seconds 60] [--clients 8] [--outages 2]
                                        [--outage-seconds 8] [--mode cut|terminate]

It makes a PostgreSQL database of its own on TEST_PG_SERVER (dropped afterwards), migrated
as a deployment is, with a location and a manager per client, and serves the app with
gunicorn (2 sync workers) through a TCP proxy (tests/db_proxy.py). The shared PostgreSQL
server is never restarted. Then --clients threads, each a phone's outbox, send walk-in
audits for --seconds (one in three fails two items: its corrective actions are written
with it), each audit until it is stored (201, or 200: stored by an earlier try whose answer
was lost), waiting as Retry-After says after a 503, with the same id each time.
Meanwhile --outages times:
  cut        the proxy closes every connection and refuses new ones for --outage-seconds
             (the database server down, or the network to it), then lets them through;
  terminate  pg_terminate_backend() of every connection to this database (what a server
             restart or a failover does to them), with no refusal after.
Printed: the requests, their answers (201, 200, 503, anything else), the audits sent and
those stored (lost: acknowledged but not stored; duplicated: stored twice; half-written:
an audit without all its answers, or a failing one without its actions), and for each
outage the time from its end to the first audit stored again and to every client storing
again. Targets: lost = 0, duplicated = 0, half-written = 0, nothing but 200/201/503.
"""
import argparse
import os
import secrets
import statistics
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import requests
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from bench.submit import free_port, serve  # noqa: E402
from tests.db_proxy import DatabaseProxy  # noqa: E402
from tests.helpers import audit_body, failing  # noqa: E402

PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
RETRY_AFTER = 1  # the server's DB_RETRY_AFTER_SECONDS here: phones wait that long after a 503
ANSWERS = 10  # a walk-in audit's answers


def prepare(url, clients):
    """Migrate, make a region with a location and a manager per client, return
    [(bearer token, location id)]."""
    from flask_migrate import upgrade

    from audit_server import create_app
    from audit_server.extensions import db
    from audit_server.services import accounts, checklists, org

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        checklists.store_versions(app.extensions["momento.checklists"])
        org.create_region("F", "Fallos")
        org.import_locations("code,name,region,address,phone,timezone\n" + "".join(
            f"F{n:02},Tienda Núñez {n},F,Calle Ñandú {n},,Europe/Madrid\n" for n in range(clients)))
        found = []
        for n in range(clients):
            location = db.session.scalar(sa.text("SELECT id FROM locations WHERE code = :c"),
                                         {"c": f"F{n:02}"})
            user = accounts.create_user(f"gestora{n}@example.com", "manager",
                                        secrets.token_urlsafe(16), [], [f"F{n:02}"])
            token, _ = accounts.issue_token(user, 2)
            found.append((token, location))
        db.engine.dispose()
    return found


class Phone(threading.Thread):
    """One phone's outbox: audits one after the other, each sent until stored."""

    def __init__(self, url, token, location, until):
        super().__init__(daemon=True)
        self.url, self.location, self.until = url, location, until
        self.headers = {"Authorization": f"Bearer {token}"}
        self.answers = []  # (monotonic time, status, seconds taken)
        self.sent = []  # (id, failing) of the audits acknowledged (200/201)
        self.stored_at = []  # monotonic time of each acknowledgement
        self.unfinished = None  # the audit being sent when the time ran out

    def run(self):
        n = 0
        session = requests.Session()
        while time.monotonic() < self.until:
            bad = n % 3 == 0
            body = audit_body(self.location, answers=failing("smile", "floor_clean") if bad else None,
                              notes=f"Visita nº {n}: cola larga, café frío ☕")
            n += 1
            self.unfinished = body["id"]
            while time.monotonic() < self.until + 60:  # finish the audit begun
                started = time.monotonic()
                try:
                    r = session.post(f"{self.url}/api/v1/audits", json=body, headers=self.headers,
                                     timeout=30)
                    status, wait = r.status_code, float(r.headers.get("Retry-After") or RETRY_AFTER)
                except requests.RequestException:
                    status, wait = "no answer", RETRY_AFTER
                self.answers.append((started, status, time.monotonic() - started))
                if status in (200, 201):
                    self.sent.append((uuid.UUID(body["id"]), bad))
                    self.stored_at.append(time.monotonic())
                    self.unfinished = None
                    break
                time.sleep(wait)


def make_database():
    name = f"momento_faults_{os.getpid()}"
    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    url = sa.make_url(PG_SERVER).set(drivername="postgresql+psycopg", database=name)
    return name, url.render_as_string(hide_password=False)


def drop_database(name):
    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def terminate_connections(name):
    """Close every connection to the database `name` (its own: no other is touched)."""
    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        return connection.execute(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
            "WHERE datname = %s AND pid <> pg_backend_pid()", (name,)).fetchone()[0]


def check(url, phones):
    """(stored, duplicated, lost, half-written, stored without an acknowledgement)."""
    engine = sa.create_engine(url)
    sent = {audit_id: bad for phone in phones for audit_id, bad in phone.sent}
    unfinished = [uuid.UUID(p.unfinished) for p in phones if p.unfinished]
    with engine.connect() as connection:
        rows = connection.execute(sa.text(
            "SELECT a.id, count(*) OVER (PARTITION BY a.id), "
            "(SELECT count(*) FROM jsonb_object_keys(a.answers)), "
            "(SELECT count(*) FROM action_audits aa WHERE aa.audit_id = a.id) FROM audits a")).all()
    engine.dispose()
    stored = {row[0] for row in rows}
    duplicated = sum(1 for row in rows if row[1] > 1)
    lost = len(set(sent) - stored)
    half = sum(1 for audit_id, _, answers, actions in rows
               if answers != ANSWERS or (sent.get(audit_id) and actions != 2))
    unacknowledged = len(stored & set(unfinished))
    return len(stored), duplicated, lost, half, unacknowledged


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--outages", type=int, default=2)
    parser.add_argument("--outage-seconds", type=float, default=8)
    parser.add_argument("--mode", choices=["cut", "terminate"], default="cut")
    args = parser.parse_args()
    name, url = make_database()
    try:
        phones = prepare(url, args.clients)
        server = sa.make_url(url)
        with DatabaseProxy(server.host, server.port or 5432) as proxy:
            env = {**os.environ, "DATABASE_URL": proxy.url_of(url), "RATELIMIT_ENABLED": "false",
                   "PHOTO_DIR": f"/tmp/{name}-photos", "DB_POOL_TIMEOUT": "2",
                   "DB_CONNECT_TIMEOUT": "2", "DB_RETRY_AFTER_SECONDS": str(RETRY_AFTER),
                   "LOG_LEVEL": "ERROR"}
            port = free_port()
            gunicorn = serve("wsgi:app", env, port)
            try:
                run(args, name, proxy, [Phone(f"http://127.0.0.1:{port}", token, location, 0)
                                        for token, location in phones], url)
            finally:
                gunicorn.terminate()
                gunicorn.wait(10)
    finally:
        drop_database(name)


def run(args, name, proxy, phones, url):
    started = time.monotonic()
    for phone in phones:
        phone.until = started + args.seconds
        phone.start()
    outages = []  # (start, end) in monotonic time
    gap = args.seconds / (args.outages + 1)
    for n in range(args.outages):
        time.sleep(max(0.0, started + gap * (n + 1) - time.monotonic()))
        begin = time.monotonic()
        if args.mode == "cut":
            proxy.cut()
            time.sleep(args.outage_seconds)
            proxy.restore()
        else:
            terminate_connections(name)
        outages.append((begin, time.monotonic()))
    for phone in phones:
        phone.join(args.seconds + 120)
    answers = [a for phone in phones for a in phone.answers]
    statuses = {}
    for _, status, _ in answers:
        statuses[status] = statuses.get(status, 0) + 1
    stored, duplicated, lost, half, unacknowledged = check(url, phones)
    sent = sum(len(phone.sent) for phone in phones)
    print(f"PostgreSQL through a TCP proxy; gunicorn 2 sync workers; {len(phones)} phones for "
          f"{args.seconds:.0f} s; {args.outages} outages ({args.mode}"
          f"{f', {args.outage_seconds:.0f} s each' if args.mode == 'cut' else ''}); "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"  requests {len(answers)}: " + ", ".join(f"{status}: {count}" for status, count in
                                                      sorted(statuses.items(), key=str)))
    others = sum(c for s, c in statuses.items() if s not in (200, 201, 503))
    print(f"  audits acknowledged {sent} ({statuses.get(200, 0)} by a 200: stored by a try whose "
          f"answer was lost), stored {stored}, stored but never acknowledged {unacknowledged}; "
          f"lost {lost}, duplicated {duplicated}, half-written {half}; "
          f"answers other than 200/201/503: {others}")
    quick = [seconds * 1000 for when, status, seconds in answers if status == 503]
    if quick:
        print(f"  a 503 took median {statistics.median(quick):.0f} ms, max {max(quick):.0f} ms")
    for n, (begin, end) in enumerate(outages, 1):
        firsts = [min((t for t in phone.stored_at if t > end), default=None) for phone in phones]
        known = [t - end for t in firsts if t is not None]
        refused = sum(1 for when, status, took in answers
                      if status == 503 and when + took >= begin and when <= end + 5)
        print(f"  outage {n}: {end - begin:4.1f} s; 503s around it {refused}; recovered (first audit "
              f"stored after it) in {min(known):.2f} s, every phone storing again in "
              f"{max(known):.2f} s" if known and len(known) == len(phones) else
              f"  outage {n}: some phones stored nothing after it")
    ok = lost == duplicated == half == others == 0
    print("  targets: lost = 0, duplicated = 0, half-written = 0, only 200/201/503: "
          + ("met" if ok else "NOT MET"))


if __name__ == "__main__":
    main()
