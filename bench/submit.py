"""Audits accepted per second through the real HTTP stack, against a baseline.

Both servers run under gunicorn with 2 sync workers on the same database
(PostgreSQL if TEST_PG_SERVER is reachable, else SQLite; --db chooses):
  - baseline: bare Flask inserting one row per request;
  - Momento: POST /api/v1/audits with a 16-answer phone audit (bearer token,
    validation, scoring, one audit row holding its answers, corrective actions),
    each kind at a location of its own, so that one kind does not change what
    another does:
      passing  - every item passes, at a location with no open corrective actions;
      verifies - every item passes, at a location where one of those items has an
                 open action: the first pass proposes its verification, the later
                 ones find that proposal standing (the action is locked and read);
      failing  - one item fails again while its action is open: the audit links to it.
The same load (CLIENTS processes posting new UUIDs) hits each in alternating rounds.
Target: a 16-answer audit reaches at least 50% of the baseline.
--floor adds bench/floor_app.py: the least a submission can do on this stack
(a Core INSERT of the audit with its answers, nothing checked), for scale.

    .venv/bin/python bench/submit.py [--db sqlite|postgresql] [--seconds 20] [--rounds 10] [--clients 4] [--floor]
"""
import argparse
import http.client
import json
import multiprocessing
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
KINDS = ["passing", "verifies", "failing"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def phone_audit(location_id, failing=False):
    """A 16-answer phone audit; `failing`: one item fails (its action is linked again)."""
    started = datetime.now(timezone.utc) - timedelta(minutes=5)
    return {
        "id": str(uuid.uuid4()), "location_id": location_id, "checklist_id": "call_your_own_number",
        "started_at": started.isoformat(), "submitted_at": (started + timedelta(minutes=3)).isoformat(),
        "answers": {
            "answered": {"value": True}, "rings_to_answer": {"value": 4}, "menu_easy": {"value": "na"},
            "greeting_business_name": {"value": True}, "greeting_own_name": {"value": not failing},
            "courtesy": {"value": 4}, "reached_person": {"value": True}, "transfers": {"value": 1},
            "warm_transfer": {"value": True}, "hold_seconds": {"value": 42.5},
            "not_my_department": {"value": False}, "owned": {"value": True},
            "follow_up_promised": {"value": True}, "useful": {"value": 4},
            "first_impression": {"value": "Polite, a bit slow", "comment": "bench"},
            "call_seconds": {"value": 184},
        },
        "notes": "",
    }


def client_loop(port, path, headers, location_id, seconds, results, failing):
    done = errors = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        body = json.dumps(phone_audit(location_id, failing))
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **headers})
        response = conn.getresponse()
        response.read()
        conn.close()
        if response.status == 201:
            done += 1
        else:
            errors += 1
    results.put((done, errors))


def measure(port, path, headers, location_id, seconds, clients, failing=False):
    results = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=client_loop,
                                     args=(port, path, headers, location_id, seconds, results, failing))
             for _ in range(clients)]
    start = time.monotonic()
    for p in procs:
        p.start()
    totals = [results.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.monotonic() - start
    done = sum(t[0] for t in totals)
    errors = sum(t[1] for t in totals)
    return done / elapsed, errors


def serve(app_spec, env, port):
    proc = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-w", "2", "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         app_spec], cwd=ROOT, env=env)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit(f"gunicorn for {app_spec} did not start")


def make_database(kind, workdir):
    if kind == "sqlite":
        return f"sqlite:///{workdir}/bench.db", lambda: None
    import psycopg
    import sqlalchemy as sa
    name = f"momento_bench_{os.getpid()}"
    with psycopg.connect(PG_SERVER, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(PG_SERVER, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    url = sa.make_url(PG_SERVER).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False), drop


def prepare(database_url):
    """Migrate, make a location per kind of audit and their manager, open the
    actions the `verifies` and `failing` audits find, and return (token,
    {kind: location id})."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from audit_server import create_app
    from audit_server.extensions import db
    from audit_server.schemas.audits import AuditSubmissionSchema
    from audit_server.services import accounts, audits, org

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        org.create_region("R", "Region")
        org.import_locations("code,name,region,address,phone,timezone\n" + "".join(
            f"{kind},{kind},R,,,Europe/Madrid\n" for kind in KINDS))
        user = accounts.create_user("bench@example.com", "manager", "bench-password", [], KINDS)
        token, _ = accounts.issue_token(user, 2)
        locations = dict(db.session.execute(sa.text("SELECT code, id FROM locations")).all())
        for kind in ("verifies", "failing"):  # an earlier failure opened an action here
            audit = phone_audit(locations[kind], failing=True)
            audit["started_at"] = (datetime.now(timezone.utc) - timedelta(days=1)).isoformat()
            audit["submitted_at"] = (datetime.now(timezone.utc) - timedelta(hours=23)).isoformat()
            audits.submit_audit(user, AuditSubmissionSchema().load(audit))
        sa.Table("bench_rows", sa.MetaData(), sa.Column("id", sa.Uuid, primary_key=True),
                 sa.Column("body", sa.Text)).create(db.engine)
        db.engine.dispose()
    return token, locations


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql"], default=None)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--floor", action="store_true", help="also measure bench/floor_app.py")
    args = parser.parse_args()
    kind = args.db
    if kind is None:
        try:
            import psycopg
            psycopg.connect(PG_SERVER, connect_timeout=3).close()
            kind = "postgresql"
        except Exception:
            kind = "sqlite"
    with tempfile.TemporaryDirectory() as workdir:
        database_url, drop = make_database(kind, workdir)
        try:
            token, locations = prepare(database_url)
            env = {**os.environ, "DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
            token_header = {"Authorization": f"Bearer {token}"}
            servers = {"baseline": "bench.baseline_app:app", "momento": "wsgi:app"}
            targets = {  # name: (server, path, headers, location, failing)
                "baseline": ("baseline", "/rows", {}, locations["passing"], False),
                "passing": ("momento", "/api/v1/audits", token_header, locations["passing"], False),
                "verifies": ("momento", "/api/v1/audits", token_header, locations["verifies"], False),
                "failing": ("momento", "/api/v1/audits", token_header, locations["failing"], True),
            }
            if args.floor:
                servers["floor"] = "bench.floor_app:app"
                targets["floor"] = ("floor", "/api/v1/audits", token_header, locations["passing"], False)
            processes, ports = [], {}
            try:
                for name, spec in servers.items():
                    ports[name] = free_port()
                    processes.append(serve(spec, env, ports[name]))
                # Alternate short rounds, so that a change in the machine's load
                # hits every side alike; keep each round's figures.
                rounds = {name: [] for name in targets}
                for round_ in range(args.rounds + 1):
                    for name, (server, path, headers, location_id, failing) in targets.items():
                        rate = measure(ports[server], path, headers, location_id,
                                       args.seconds / args.rounds, args.clients, failing)
                        if round_:  # the first round warms up
                            rounds[name].append(rate)
            finally:
                for process in processes:
                    process.terminate()
                    process.wait()
        finally:
            drop()
    errors = sum(e for r in rounds.values() for _, e in r)
    base = statistics.median(r for r, _ in rounds["baseline"])
    print(f"database: {kind}; gunicorn 2 sync workers each; {args.clients} client processes; "
          f"{args.rounds} alternating rounds of {args.seconds / args.rounds:g} s; errors: {errors}")
    print(f"{'baseline: bare Flask, 1 row per request':52s} {base:7.1f} requests/s (median)")

    def report(name, label):
        rate = statistics.median(r for r, _ in rounds[name])
        ratios = [m / b for (m, _), (b, _) in zip(rounds[name], rounds["baseline"])]
        failed = sum(e for _, e in rounds[name])
        print(f"{label:52s} {rate:7.1f} audits/s (median), {statistics.median(ratios):4.0%} of "
              f"baseline (rounds: {', '.join(f'{r:.0%}' for r in ratios)})"
              + (f"  !!! {failed} requests failed" if failed else ""))

    report("passing", "16-answer audit, all items passing")
    report("verifies", "16-answer audit, passing, 1 action open there")
    report("failing", "16-answer audit, 1 item failing again: links")
    if args.floor:
        report("floor", "floor: a Core INSERT, nothing checked")
    print("target: a 16-answer audit reaches at least 50% of the baseline")


if __name__ == "__main__":
    main()
