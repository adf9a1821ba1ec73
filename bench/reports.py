"""The region report and the organisation overview on a million audits, against
hand-written SQL for the same figures, on SQLite and on PostgreSQL.

    .venv/bin/python bench/reports.py [--db sqlite|postgresql|both] [--reuse]
                                      [--regions 5] [--rounds 3] [--audits 1000000]
                                      [--locations 5000] [--regions-total 50]

For each database it first builds the data set, as `make run` users would:
`flask seed-demo --audits 1000000 --locations 5000 --regions 50 --seed 7 --until 2026-12-01`
(and prints how long that took; --audits, --locations and --regions-total choose
another size, e.g. 200000, 1000, 10 to iterate with the same size per region), in the
SQLite file BENCH_SQLITE_PATH (default /tmp/momento-bench.db) and in the PostgreSQL database BENCH_PG_DATABASE (default
momento_bench) on the server TEST_PG_SERVER. --reuse keeps a data set already there
(and builds it if it is not), after bringing it to the latest migration.

Then, in one process, inside an app context as the API calls them, for the
last 30 days before the end of the history (and the 30 days before, which every figure
is compared with), for --regions regions, --rounds times each:
  service:      services.reports.region_report(admin, code, period), its median and max;
  hand-written: the same figures with SQL written for this database by hand, run in the
                same process and the same rounds: per location and for the region, the
                audits, mean scores, critical failures and locations audited of both
                periods, the open and overdue actions, the closings (count, on time,
                median hours), the weekly means of 12 weeks, the latest audit of each
                kind, the section scores, the item failure rates and the phone figures;
  ratio:        service / hand-written (medians);
  overview:     services.reports.organisation_report(admin, period), median and max.
Targets: a region report under 300 ms, at most 2x the hand-written SQL; the overview
under 1 s. Each session is removed between calls, as after a request.
"""
import argparse
import os
import secrets
import statistics
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import psycopg
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from audit_server import create_app  # noqa: E402
from audit_server.extensions import db  # noqa: E402
from audit_server.models import User  # noqa: E402
from audit_server.services import reports  # noqa: E402

PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
SQLITE_PATH = os.environ.get("BENCH_SQLITE_PATH", "/tmp/momento-bench.db")
PG_DATABASE = os.environ.get("BENCH_PG_DATABASE", "momento_bench")
SEED_SIZE = {"audits": 1000000, "locations": 5000, "regions": 50}  # the default data set


def seed_args(size):
    return [*(a for name, value in size.items() for a in (f"--{name}", str(value))),
            "--seed", "7", "--until", "2026-12-01"]


NOW = datetime(2026, 12, 1, 20, tzinfo=timezone.utc)  # the end of that history
TARGET_MS, TARGET_RATIO, TARGET_OVERVIEW_MS = 300, 2.0, 1000
PENDING = "('open', 'in_progress', 'reopened')"

# --- the hand-written SQL: the same figures, one statement per group of them -------------

# The region's audits of the period (part 1) and of the previous one (part 0).
PERIOD_AUDITS = """
        WITH a AS (
          SELECT a.location_id, a.checklist_id, a.score_percent, a.critical_failed,
                 a.submitted_at >= :start AS part
          FROM locations l JOIN audits a ON a.location_id = l.id
          WHERE l.region_id = :region AND a.submitted_at >= :previous AND a.submitted_at < :end)
"""



def period_closings(seconds):
    """The region's actions first done in the period (part 1) or the previous one (part 0),
    with `seconds` (this database's arithmetic) from opening to that first done."""
    return f"""
        WITH c AS (
          SELECT c.location_id, c.first_done_at >= :start AS part,
                 c.first_done_at <= c.due_at AS on_time, {seconds} AS seconds
          FROM locations l JOIN corrective_actions c ON c.location_id = l.id
          WHERE l.region_id = :region AND c.first_done_at >= :previous AND c.first_done_at < :end)"""


def open_actions(overdue):
    """Per location, the open actions now and (`overdue`, this database's count) those past due."""
    return f"""
        SELECT c.location_id, count(*), {overdue}
        FROM locations l JOIN corrective_actions c ON c.location_id = l.id
        WHERE l.region_id = :region AND c.status IN {PENDING} GROUP BY c.location_id"""


SQLITE = {
    "region": "SELECT id, code, name FROM regions WHERE code = :code",
    "locations": "SELECT id, code, name, timezone FROM locations WHERE region_id = :region "
                 "ORDER BY code",
    "audits": PERIOD_AUDITS + """
        SELECT location_id, NULL AS checklist_id, part, count(*), avg(score_percent),
               sum(critical_failed), 1 FROM a GROUP BY location_id, part
        UNION ALL SELECT location_id, checklist_id, part, count(*), avg(score_percent),
               sum(critical_failed), 1 FROM a GROUP BY location_id, checklist_id, part
        UNION ALL SELECT NULL, NULL, part, count(*), avg(score_percent), sum(critical_failed),
               count(DISTINCT location_id) FROM a GROUP BY part
        UNION ALL SELECT NULL, checklist_id, part, count(*), avg(score_percent),
               sum(critical_failed), count(DISTINCT location_id) FROM a GROUP BY checklist_id, part""",
    "open_actions": open_actions("sum(c.due_at < :now)"),
    "closings": period_closings("round((julianday(c.first_done_at) - julianday(c.opened_at)) * 86400)") + """,
        ranked AS (
          SELECT location_id, part, seconds, on_time,
                 row_number() OVER (PARTITION BY location_id, part ORDER BY seconds) AS n,
                 count(*) OVER (PARTITION BY location_id, part) AS total,
                 row_number() OVER (PARTITION BY part ORDER BY seconds) AS region_n,
                 count(*) OVER (PARTITION BY part) AS region_total
          FROM c)
        SELECT location_id, part, count(*), 100.0 * sum(on_time) / count(*),
               avg(CASE WHEN n IN ((total + 1) / 2, (total + 2) / 2) THEN seconds END)
        FROM ranked GROUP BY location_id, part
        UNION ALL
        SELECT NULL, part, count(*), 100.0 * sum(on_time) / count(*),
               avg(CASE WHEN region_n IN ((region_total + 1) / 2, (region_total + 2) / 2)
                   THEN seconds END)
        FROM ranked GROUP BY part""",
    "weekly": """
        WITH w AS (
          SELECT a.location_id, a.checklist_id, a.score_percent,
                 date(a.local_date, 'weekday 0', '-6 days') AS week
          FROM locations l JOIN audits a ON a.location_id = l.id
          WHERE l.region_id = :region AND a.local_date >= :first_week AND a.local_date < :after_weeks)
        SELECT location_id, checklist_id, week, avg(score_percent), count(*) FROM w
        GROUP BY location_id, checklist_id, week
        UNION ALL SELECT NULL, checklist_id, week, avg(score_percent), count(*) FROM w
        GROUP BY checklist_id, week""",
    # SQLite gives the other columns of the row holding max() (its "bare columns").
    "latest": """
        SELECT a.location_id, a.checklist_id, a.id, a.score_percent, a.local_date, max(a.submitted_at)
        FROM locations l JOIN audits a ON a.location_id = l.id
        WHERE l.region_id = :region GROUP BY a.location_id, a.checklist_id""",
    "sections": """
        SELECT a.checklist_id, json_extract(s.value, '$.id') AS section, a.submitted_at >= :start,
               100.0 * sum(json_extract(s.value, '$.points')) / sum(json_extract(s.value, '$.max_points'))
        FROM locations l JOIN audits a ON a.location_id = l.id, json_each(a.sections) s
        WHERE l.region_id = :region AND a.submitted_at >= :previous AND a.submitted_at < :end
        GROUP BY 1, 2, 3""",
    "items": """
        SELECT a.checklist_id, i.key, a.submitted_at >= :start AS part, count(*),
               sum(json_extract(i.value, '$.failed')),
               100.0 * sum(json_extract(i.value, '$.failed')) / count(*),
               count(DISTINCT CASE WHEN json_extract(i.value, '$.failed') THEN a.location_id END)
        FROM locations l JOIN audits a ON a.location_id = l.id, json_each(a.answers) i
        WHERE l.region_id = :region AND a.submitted_at >= :previous AND a.submitted_at < :end
          AND json_type(i.value, '$.max_points') IN ('integer', 'real')
        GROUP BY 1, 2, 3""",
    "phone": """
        WITH p AS (
          SELECT a.submitted_at >= :start AS part,
                 json_extract(a.answers, '$.answered.value') = 1 AS answered,
                 json_extract(a.answers, '$.rings_to_answer.value') AS rings,
                 json_extract(a.answers, '$.hold_seconds.value') AS hold,
                 json_extract(a.answers, '$.transfers.value') AS transfers,
                 json_extract(a.answers, '$.not_my_department.value') = 1 AS nmd,
                 json_extract(a.answers, '$.owned.value') = 1 AS owned
          FROM locations l JOIN audits a ON a.location_id = l.id
          WHERE l.region_id = :region AND a.checklist_id = 'call_your_own_number'
            AND a.submitted_at >= :previous AND a.submitted_at < :end),
        ranked AS (
          SELECT part, rings, hold,
                 row_number() OVER (PARTITION BY part ORDER BY rings) AS rn,
                 row_number() OVER (PARTITION BY part ORDER BY hold) AS hn,
                 count(*) OVER (PARTITION BY part) AS total
          FROM p WHERE answered)
        SELECT p.part, count(*), 100.0 * sum(answered) / count(*),
               100.0 * sum(answered AND rings <= 3) / nullif(sum(answered), 0),
               100.0 * sum(answered AND hold <= 30) / nullif(sum(answered), 0),
               100.0 * sum(answered AND transfers >= 2) / nullif(sum(answered), 0),
               100.0 * sum(answered AND nmd) / nullif(sum(answered), 0),
               100.0 * sum(answered AND owned) / nullif(sum(answered), 0),
               (SELECT avg(rings) FROM ranked r WHERE r.part = p.part
                  AND rn IN ((total + 1) / 2, (total + 2) / 2)),
               (SELECT avg(hold) FROM ranked r WHERE r.part = p.part
                  AND hn IN ((total + 1) / 2, (total + 2) / 2))
        FROM p GROUP BY p.part""",
}

POSTGRESQL = {
    **{name: SQLITE[name] for name in ("region", "locations")},
    "audits": PERIOD_AUDITS + """
        SELECT location_id, checklist_id, part, count(*), avg(score_percent),
               count(*) FILTER (WHERE critical_failed), count(DISTINCT location_id)
        FROM a GROUP BY GROUPING SETS ((location_id, part), (location_id, checklist_id, part),
                                       (part), (checklist_id, part))""",
    "open_actions": open_actions("count(*) FILTER (WHERE c.due_at < :now)"),
    "closings": period_closings("round(extract(epoch FROM c.first_done_at - c.opened_at))") + """
        SELECT location_id, part, count(*), 100.0 * count(*) FILTER (WHERE on_time) / count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)
        FROM c GROUP BY GROUPING SETS ((location_id, part), (part))""",
    "weekly": """
        WITH w AS (
          SELECT a.location_id, a.checklist_id, a.score_percent,
                 a.local_date - (extract(isodow FROM a.local_date)::int - 1) AS week
          FROM locations l JOIN audits a ON a.location_id = l.id
          WHERE l.region_id = :region AND a.local_date >= :first_week
            AND a.local_date < :after_weeks)
        SELECT location_id, checklist_id, week, avg(score_percent), count(*) FROM w
        GROUP BY GROUPING SETS ((location_id, checklist_id, week), (checklist_id, week))""",
    "latest": """
        SELECT DISTINCT ON (a.location_id, a.checklist_id)
               a.location_id, a.checklist_id, a.id, a.score_percent, a.local_date
        FROM locations l JOIN audits a ON a.location_id = l.id
        WHERE l.region_id = :region
        ORDER BY a.location_id, a.checklist_id, a.submitted_at DESC, a.id DESC""",
    "sections": """
        SELECT a.checklist_id, s.value ->> 'id', a.submitted_at >= :start,
               100 * sum((s.value ->> 'points')::float) / sum((s.value ->> 'max_points')::float)
        FROM locations l JOIN audits a ON a.location_id = l.id,
             jsonb_array_elements(a.sections) s
        WHERE l.region_id = :region AND a.submitted_at >= :previous AND a.submitted_at < :end
        GROUP BY 1, 2, 3""",
    "items": """
        SELECT a.checklist_id, i.key, a.submitted_at >= :start, count(*),
               count(*) FILTER (WHERE (i.value ->> 'failed')::boolean),
               100.0 * count(*) FILTER (WHERE (i.value ->> 'failed')::boolean) / count(*),
               count(DISTINCT a.location_id) FILTER (WHERE (i.value ->> 'failed')::boolean)
        FROM locations l JOIN audits a ON a.location_id = l.id, jsonb_each(a.answers) i
        WHERE l.region_id = :region AND a.submitted_at >= :previous AND a.submitted_at < :end
          AND jsonb_typeof(i.value -> 'max_points') = 'number'
        GROUP BY 1, 2, 3""",
    "phone": """
        WITH p AS (
          SELECT a.submitted_at >= :start AS part,
                 coalesce(a.answers #>> '{answered,value}' = 'true', false) AS answered,
                 (a.answers #>> '{rings_to_answer,value}')::float AS rings,
                 (a.answers #>> '{hold_seconds,value}')::float AS hold,
                 (a.answers #>> '{transfers,value}')::float AS transfers,
                 a.answers #>> '{not_my_department,value}' = 'true' AS nmd,
                 a.answers #>> '{owned,value}' = 'true' AS owned
          FROM locations l JOIN audits a ON a.location_id = l.id
          WHERE l.region_id = :region AND a.checklist_id = 'call_your_own_number'
            AND a.submitted_at >= :previous AND a.submitted_at < :end)
        SELECT part, count(*), 100.0 * count(*) FILTER (WHERE answered) / count(*),
               100.0 * count(*) FILTER (WHERE answered AND rings <= 3)
                 / nullif(count(*) FILTER (WHERE answered), 0),
               100.0 * count(*) FILTER (WHERE answered AND hold <= 30)
                 / nullif(count(*) FILTER (WHERE answered), 0),
               100.0 * count(*) FILTER (WHERE answered AND transfers >= 2)
                 / nullif(count(*) FILTER (WHERE answered), 0),
               100.0 * count(*) FILTER (WHERE answered AND nmd)
                 / nullif(count(*) FILTER (WHERE answered), 0),
               100.0 * count(*) FILTER (WHERE answered AND owned)
                 / nullif(count(*) FILTER (WHERE answered), 0),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY rings) FILTER (WHERE answered),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY hold) FILTER (WHERE answered)
        FROM p GROUP BY part""",
}


def hand_written(connection, dialect, code, period):
    """Every figure of the region report by the hand-written statements: {name: rows}."""
    statements = POSTGRESQL if dialect == "postgresql" else SQLITE
    weeks = period.weeks()

    def moment(value):  # SQLite compares the text it stores: naive UTC
        return value if dialect == "postgresql" else value.replace(tzinfo=None).isoformat(" ")

    region = connection.execute(sa.text(statements["region"]), {"code": code}).one()
    params = {"region": region.id, "start": moment(period.start), "end": moment(period.end),
              "previous": moment(period.previous.start), "now": moment(NOW),
              "first_week": weeks[0], "after_weeks": weeks[-1] + timedelta(weeks=1)}
    found = {"region": [region]}
    for name, sql in statements.items():
        if name != "region":
            statement = sa.text(sql)
            found[name] = connection.execute(
                statement, {k: v for k, v in params.items() if f":{k}" in sql}).all()
    return found


# --- the data sets ------------------------------------------------------------------------

def database_url(kind):
    if kind == "sqlite":
        return f"sqlite:///{SQLITE_PATH}"
    return sa.make_url(PG_SERVER).set(database=PG_DATABASE).render_as_string(hide_password=False)


def audit_count(url):
    try:
        engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.connect() as connection:
            return connection.execute(sa.text("SELECT count(*) FROM audits")).scalar()
    except sa.exc.SQLAlchemyError:
        return None
    finally:
        engine.dispose()


FLASK = [sys.executable, "-m", "flask", "--app", "audit_server"]


def migrate(url):
    """`db upgrade` and `checklists sync`, as a deployment does."""
    for command in (["db", "upgrade"], ["checklists", "sync"]):
        subprocess.run(FLASK + command, cwd=ROOT, env=dict(os.environ, DATABASE_URL=url),
                       check=True, capture_output=True)


def build(kind, url, size):
    """A new database with the data set; prints the seed-demo command's time."""
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
    else:
        with psycopg.connect(PG_SERVER, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
            connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    migrate(url)
    started = time.monotonic()
    subprocess.run(FLASK + ["seed-demo", *seed_args(size)], cwd=ROOT,
                   env=dict(os.environ, DATABASE_URL=url), check=True, stdout=subprocess.DEVNULL)
    print(f"  built: flask seed-demo {' '.join(seed_args(size))}: {time.monotonic() - started:.0f} s "
          f"(load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


# --- timing -------------------------------------------------------------------------------

def timed(call):
    started = time.perf_counter()
    result = call()
    elapsed = (time.perf_counter() - started) * 1000
    db.session.remove()
    return elapsed, result


def bench(kind, reuse, region_count, rounds, size):
    url = database_url(kind)
    print(f"\n=== {kind}: {url}")
    count = audit_count(url)
    if reuse and count:
        migrate(url)  # a data set built before the latest migrations (indexes) gets them
        print(f"  reused: {count} audits")
    else:
        build(kind, url, size)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        admin = db.session.scalar(sa.select(User).where(User.email == "admin@momento.example"))
        codes = db.session.scalars(sa.text("SELECT code FROM regions WHERE code LIKE 'G%' ORDER BY code")).all()
        codes = codes[::max(1, len(codes) // region_count)][:region_count]
        service, sql, checks = [], [], []
        for _ in range(rounds):
            for code in codes:
                zone = reports.viewer_zone(admin, code)
                period = reports.period_of("last_30_days", zone=zone, now=NOW)
                ms, report = timed(lambda: reports.region_report(admin, code, period, now=NOW))  # noqa: B023 (called at once)
                service.append(ms)
                ms, found = timed(lambda: hand_written(db.session.connection(), db.engine.dialect.name,
                                                       code, period))  # noqa: B023 (called at once)
                sql.append(ms)
                region_row = [r for r in found["audits"] if r[0] is None and r[1] is None and r[2]]
                checks.append(report["summary"]["audits"]["value"] == (region_row[0][3] if region_row else 0))
        period = reports.period_of("last_30_days", zone=reports.viewer_zone(admin), now=NOW)
        overview = [timed(lambda: reports.organisation_report(admin, period, now=NOW))[0]
                    for _ in range(rounds)]
        audits_in_period = report["summary"]["audits"]["value"]
    print(f"  {len(codes)} regions x {rounds} rounds, last 30 days before {NOW:%Y-%m-%d %H:%M} UTC "
          f"(the last region: {audits_in_period} audits in the period, "
          f"{len(report['locations'])} locations); the service's audit count agrees with the "
          f"hand-written SQL's in {sum(checks)} of {len(checks)} reports")
    ratio = statistics.median(service) / statistics.median(sql)
    print(f"  region report (service)  median {statistics.median(service):7.0f} ms   "
          f"max {max(service):7.0f} ms   target < {TARGET_MS} ms")
    print(f"  hand-written SQL         median {statistics.median(sql):7.0f} ms   max {max(sql):7.0f} ms")
    print(f"  ratio service / SQL      {ratio:7.2f}x                      target <= {TARGET_RATIO}x")
    print(f"  organisation overview    median {statistics.median(overview):7.0f} ms   "
          f"max {max(overview):7.0f} ms   target < {TARGET_OVERVIEW_MS} ms")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--reuse", action="store_true", help="keep a data set already built")
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--audits", type=int, default=SEED_SIZE["audits"])
    parser.add_argument("--locations", type=int, default=SEED_SIZE["locations"])
    parser.add_argument("--regions-total", type=int, default=SEED_SIZE["regions"])
    args = parser.parse_args()
    size = {"audits": args.audits, "locations": args.locations, "regions": args.regions_total}
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for kind in kinds:
        bench(kind, args.reuse, args.regions, args.rounds, size)


if __name__ == "__main__":
    main()
