"""EXPLAIN (ANALYZE, BUFFERS) of the queries the app really issues, on the PostgreSQL data
set of a million audits: their time, and whether they read the big tables by an index or
by a sequential scan.

    BENCH_PG_DATABASE=momento_bench .venv/bin/python bench/explain.py [--compare] [--rebuild]

The data set is bench/reports.py's (`flask seed-demo --audits 1000000 --locations 5000
--regions 50 --seed 7 --until 2026-12-01` into BENCH_PG_DATABASE on TEST_PG_SERVER):
kept when it is there (brought to the latest migration), built when it is not (a few
minutes), rebuilt with --rebuild.

The statements are not copied here: each service is called as its endpoint calls it, in
an app context, and every SELECT it sends to the database is captured (SQLAlchemy's
before_cursor_execute) with its parameters, then explained with them:
  audits of a location  services.audits.list_audits(user, 1, 50, location_id=...)
                        (GET /api/v1/audits?location_id=: newest first, paginated), as
                        the admin and as the location's manager;
  open actions          services.actions.list_actions(regional, 1, 50, statuses=open ones)
                        (GET /api/v1/actions?status=...: a regional manager's scope);
  overdue actions       services.actions.list_actions(user, 1, 50, overdue=True), as the
                        admin (the whole organisation) and as a regional manager;
  region report         services.reports.region_report(admin, code, last 30 days);
  exports               services.exports.audit_export / action_export of a region's last
                        30 days (GET /api/v1/exports/audits.csv?region=...), and of the
                        whole organisation's last 7 days.
For each statement: its execution time, the shared buffers it hit or read, and how it read
audits, corrective_actions, action_audits, action_events and photos (the big tables; an
audit's answers are a JSON document in its row, not a table of their own): "SEQ SCAN" is
flagged. --compare makes the indexes of migration 0014_query_indexes as they were before it,
explains everything, makes them as the migration does, and explains everything again:
before / after. A data set never vacuumed (just built) is first VACUUM (ANALYZE)d, as
autovacuum would in production (index-only scans rely on the visibility map it sets);
--plans MS prints the plan of every statement taking MS ms or more.
"""
import argparse
import contextlib
import importlib.util
import os
import secrets
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from audit_server import create_app  # noqa: E402
from audit_server.extensions import db  # noqa: E402
from audit_server.models import Location, Region, User  # noqa: E402
from audit_server.models.actions import PENDING  # noqa: E402
from audit_server.services import actions, audits, exports, reports  # noqa: E402
from bench import reports as data_set  # noqa: E402

NOW = data_set.NOW  # the end of the data set's history
BIG_TABLES = ("audits", "corrective_actions", "action_audits", "action_events", "photos")
MIGRATION = ROOT / "migrations" / "versions" / "0014_query_indexes.py"


def new_indexes():
    """The indexes of migration 0014_query_indexes, as it declares them."""
    spec = importlib.util.spec_from_file_location("query_indexes", MIGRATION)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.INDEXES


# --- capturing the statements --------------------------------------------------------------

@contextlib.contextmanager
def captured(engine):
    """The SELECTs sent to the database meanwhile: [(statement, parameters)]."""
    found = []

    def before(_conn, _cursor, statement, parameters, _context, _executemany):
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            found.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", before)
    try:
        yield found
    finally:
        sa.event.remove(engine, "before_cursor_execute", before)


def statements_of(call):
    """Call a service as its endpoint does (reading what it returns), and return the
    SELECTs it issued."""
    with captured(db.engine) as found:
        result = call()
        if isinstance(result, tuple) and len(result) == 2 and hasattr(result[1], "__next__"):
            header, rows = result  # an export: its query was executed by the call;
            for _ in rows:  # its rows are read to the end, which closes its connection
                pass
    db.session.remove()
    return found


# --- the plans -----------------------------------------------------------------------------

def nodes(plan):
    yield plan
    for child in plan.get("Plans", ()):
        yield from nodes(child)


def how_read(plan):
    """[(table, how)] for the big tables a plan reads."""
    found = []
    index_of_bitmap = {}
    for node in nodes(plan):
        if node["Node Type"] == "Bitmap Heap Scan":
            index_of_bitmap[id(node)] = [n.get("Index Name") for n in nodes(node)
                                         if n["Node Type"] == "Bitmap Index Scan"]
    for node in nodes(plan):
        table = node.get("Relation Name")
        if table not in BIG_TABLES:
            continue
        kind = node["Node Type"]
        if kind == "Seq Scan":
            found.append((table, f"SEQ SCAN ({node.get('Actual Rows', 0) * node.get('Actual Loops', 1)} rows)"))
        elif kind == "Bitmap Heap Scan":
            found.append((table, "bitmap " + "+".join(filter(None, index_of_bitmap[id(node)]))))
        else:
            short = {"Index Scan": "index", "Index Only Scan": "index only"}.get(kind, kind)
            found.append((table, f"{short} {node.get('Index Name', '')}".strip()))
    return found


def explain(connection, statement, parameters):
    row = connection.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + statement,
                                     parameters).scalar_one()
    document = row[0]
    top = document["Plan"]
    return {"ms": document["Execution Time"], "planning": document["Planning Time"],
            "hit": top.get("Shared Hit Blocks", 0), "read": top.get("Shared Read Blocks", 0),
            "reads": how_read(top), "plan": top, "statement": statement}


def print_plan(plan, depth=3):
    """A plan's nodes, one a line: what, on which table by which index, time and rows."""
    on = " on " + plan["Relation Name"] if plan.get("Relation Name") else ""
    using = " using " + plan["Index Name"] if plan.get("Index Name") else ""
    print(f"{' ' * depth}{plan['Node Type']}{on}{using}  {plan['Actual Total Time']:.1f} ms, "
          f"{plan['Actual Rows']} rows x {plan['Actual Loops']}")
    for child in plan.get("Plans", ()):
        print_plan(child, depth + 2)


def first_table(statement):
    words = statement.replace("\n", " ").split()
    for before, word in zip(words, words[1:]):
        if before.upper() == "FROM" and not word.startswith("(") and "." not in word:
            return word.strip('"')
    return "?"


# --- the calls ---------------------------------------------------------------------------

def user(email):
    return db.session.scalar(sa.select(User).where(User.email == email))


def the_calls():
    """[(label, call)] of the queries checked, on the data set's people and places."""
    admin = user("admin@momento.example")
    regional = user("regional.g01@momento.example")
    code = "G01"
    region = db.session.scalar(sa.select(Region).where(Region.code == code))
    location = db.session.scalar(sa.select(Location).where(Location.region_id == region.id)
                                 .order_by(Location.code).limit(1))
    manager = db.session.scalar(sa.text(
        "SELECT u.email FROM users u JOIN user_locations ul ON ul.user_id = u.id "
        "WHERE ul.location_id = :id AND u.role = 'manager' LIMIT 1"), {"id": location.id})
    manager = user(manager)
    zone = reports.viewer_zone(admin, code)
    period = reports.period_of("last_30_days", zone=zone, now=NOW)
    names = {"admin": admin, "regional": regional, "manager": manager}

    def who(name):  # each call reads its user in its own session
        return db.session.merge(names[name], load=False)

    def export(kind, region_code, preset):
        def call():
            viewer = who("admin")
            found = exports.export_filter(viewer, preset=preset, region=region_code, now=NOW)
            if kind == "audits":
                return exports.audit_export(found, str)
            return exports.action_export(found, "es", str, str, now=NOW)
        return call

    return [
        (f"audits of {location.code}, admin", lambda: audits.list_audits(
            who("admin"), 1, 50, location_id=location.id)),
        (f"audits of {location.code}, its manager", lambda: audits.list_audits(
            who("manager"), 1, 50, location_id=location.id)),
        (f"audits of {location.code}, page 10", lambda: audits.list_audits(
            who("admin"), 10, 50, location_id=location.id)),
        (f"audits of {location.code}, 90 days", lambda: audits.list_audits(
            who("admin"), 1, 50, location_id=location.id, since=NOW - timedelta(days=90),
            until=NOW)),
        (f"audits of region {code}, regional", lambda: audits.list_audits(
            who("regional"), 1, 50)),
        ("audits of all, 30 days, admin", lambda: audits.list_audits(
            who("admin"), 1, 50, since=NOW - timedelta(days=30), until=NOW)),
        ("open actions, admin", lambda: actions.list_actions(
            who("admin"), 1, 50, statuses=tuple(PENDING), now=NOW)),
        (f"open actions of {location.code}, manager", lambda: actions.list_actions(
            who("manager"), 1, 50, statuses=tuple(PENDING), now=NOW)),
        ("open actions, regional G01", lambda: actions.list_actions(
            who("regional"), 1, 50, statuses=tuple(PENDING), now=NOW)),
        ("overdue actions, admin", lambda: actions.list_actions(
            who("admin"), 1, 50, overdue=True, now=NOW)),
        ("overdue actions, regional G01", lambda: actions.list_actions(
            who("regional"), 1, 50, overdue=True, now=NOW)),
        (f"region report {code}", lambda: reports.region_report(who("admin"), code, period, now=NOW)),
        (f"audit export {code} 30 days", export("audits", code, "last_30_days")),
        (f"action export {code} 30 days", export("actions", code, "last_30_days")),
        ("audit export all, 7 days", export("audits", None, "last_7_days")),
        ("action export all, 7 days", export("actions", None, "last_7_days")),
    ]


def run_all(app):
    """{label: [(table, explained)]} of every call's statements."""
    results = {}
    with app.app_context():
        calls = the_calls()
        db.session.remove()
        for label, call in calls:
            found = statements_of(call)
            with db.engine.connect() as connection:
                connection.exec_driver_sql("SET statement_timeout = 0")
                results[label] = [(first_table(s), explain(connection, s, p)) for s, p in found]
                connection.rollback()
    return results


def print_results(title, results, plans_over=None):
    print(f"\n--- {title}")
    flagged = 0
    for label, explained in results.items():
        total = sum(e["ms"] for _, e in explained)
        print(f"{label:34} {len(explained):2} statements {total:9.1f} ms")
        for n, (table, e) in enumerate(explained, 1):
            seq = [r for r in e["reads"] if r[1].startswith("SEQ")]
            flagged += len(seq)
            reads = "; ".join(f"{t}: {how}" for t, how in e["reads"]) or "no big table"
            print(f"   {n:2}. FROM {table:20} {e['ms']:8.1f} ms  buffers {e['hit'] + e['read']:7}"
                  f"  {'!! ' if seq else ''}{reads}")
            if plans_over is not None and e["ms"] >= plans_over:
                print_plan(e["plan"], 8)
    print(f"sequential scans of a big table: {flagged}")
    return flagged


# --- the indexes of 0014 --------------------------------------------------------------------

def set_indexes(engine, which):
    """The indexes of 0014_query_indexes as they were before it (which=2) or as it makes
    them (which=3), built the way the migration builds them (alembic's operations), then
    the tables analysed: the seconds it took."""
    from alembic.migration import MigrationContext
    from alembic.operations import Operations

    started = time.monotonic()
    with engine.begin() as connection:
        connection.exec_driver_sql("SET LOCAL statement_timeout = 0")
        operations = Operations(MigrationContext.configure(connection))
        for index in new_indexes():
            name, table, columns = index[0], index[1], index[which]
            operations.drop_index(name, table_name=table)
            operations.create_index(name, table, columns, unique=False)
    vacuum(engine, analyse_only=True)
    return time.monotonic() - started


def vacuum(engine, analyse_only=False):
    """VACUUM (ANALYZE) the big tables, as autovacuum does in production after a load:
    index-only scans need the visibility map it sets. A freshly built data set has none."""
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        for table in BIG_TABLES:
            connection.exec_driver_sql(f'{"ANALYZE" if analyse_only else "VACUUM (ANALYZE)"} "{table}"')


def never_vacuumed(engine):
    with engine.connect() as connection:
        return connection.exec_driver_sql(
            "SELECT count(*) FROM pg_stat_user_tables WHERE relname = ANY(%(tables)s) "
            "AND last_vacuum IS NULL AND last_autovacuum IS NULL",
            {"tables": list(BIG_TABLES)}).scalar()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compare", action="store_true",
                        help="explain without the indexes of 0014_query_indexes, then with them")
    parser.add_argument("--rebuild", action="store_true", help="build the data set again")
    parser.add_argument("--plans", type=float, metavar="MS",
                        help="print the plan of each statement taking MS ms or more")
    args = parser.parse_args()
    url = data_set.database_url("postgresql")
    print(f"=== {url}")
    count = data_set.audit_count(url)
    if count and not args.rebuild:
        data_set.migrate(url)
        print(f"  reused: {count} audits")
    else:
        data_set.build("postgresql", url, data_set.SEED_SIZE)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "DB_STATEMENT_TIMEOUT_MS": 0})
    with app.app_context():
        engine = db.engine
        version = engine.connect().exec_driver_sql("SHOW server_version").scalar()
    print(f"  PostgreSQL {version}; as of {NOW:%Y-%m-%d %H:%M} UTC; "
          f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC; load average {os.getloadavg()[0]:.1f}")
    if never_vacuumed(engine):
        started = time.monotonic()
        vacuum(engine)
        print(f"  VACUUM (ANALYZE) of the big tables, never vacuumed yet: {time.monotonic() - started:.0f} s")
    if not args.compare:
        print_results("with the migrations' indexes", run_all(app), args.plans)
        return
    seconds = set_indexes(engine, 2)
    print(f"\n  the indexes of 0014_query_indexes as before it, made in {seconds:.1f} s")
    before = run_all(app)
    print_results("before 0014_query_indexes", before, args.plans)
    seconds = set_indexes(engine, 3)
    print(f"\n  the indexes of 0014_query_indexes made in {seconds:.1f} s")
    after = run_all(app)
    print_results("with 0014_query_indexes", after, args.plans)
    print("\n--- before / after 0014 (each call's statements: execution ms, shared buffers)")
    for label in before:
        was = sum(e["ms"] for _, e in before[label])
        now = sum(e["ms"] for _, e in after[label])
        seqs = [sum(r[1].startswith("SEQ") for _, e in found[label] for r in e["reads"])
                for found in (before, after)]
        buffers = [sum(e["hit"] + e["read"] for _, e in found[label]) for found in (before, after)]
        print(f"{label:34} {was:8.1f} -> {now:8.1f} ms   {buffers[0]:7} -> {buffers[1]:7} buffers"
              f"   seq scans {seqs[0]} -> {seqs[1]}")


if __name__ == "__main__":
    main()
