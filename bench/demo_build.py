"""How long `flask seed-demo` takes to build a big demo history, wall clock and CPU.

    .venv/bin/python bench/demo_build.py [--db sqlite|postgresql|both] [--audits 50000]
                                         [--locations 250] [--regions 5] [--baseline DIR]

Builds the history in a new database of its own for each kind (SQLite: the file
DEMO_BENCH_SQLITE_PATH, default /tmp/momento-demo-build.db; PostgreSQL: the database
DEMO_BENCH_PG_DATABASE, default momento_demo_build, on TEST_PG_SERVER), after
`flask db upgrade` and `flask checklists sync`, and prints the seed-demo command's wall
time and its CPU time (user + sys of it and its worker processes). Other work on the
machine stretches the wall time, not the CPU time.

--baseline DIR: also build the same with the code in DIR (e.g. an export of main made with
`git archive main | tar -x -C DIR`), right after, and print this code's figures as a ratio
of that one's.
"""
import argparse
import os
import resource
import secrets
import subprocess
import sys
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
SQLITE_PATH = os.environ.get("DEMO_BENCH_SQLITE_PATH", "/tmp/momento-demo-build.db")
PG_DATABASE = os.environ.get("DEMO_BENCH_PG_DATABASE", "momento_demo_build")


def fresh_database(kind):
    if kind == "sqlite":
        for suffix in ("", "-wal", "-shm"):
            Path(SQLITE_PATH + suffix).unlink(missing_ok=True)
        return f"sqlite:///{SQLITE_PATH}"
    with psycopg.connect(PG_SERVER, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    return PG_SERVER.rsplit("/", 1)[0] + "/" + PG_DATABASE


def flask(code, url, *args, **kwargs):
    command = [sys.executable, "-m", "flask", "--app", "audit_server", *args]
    return subprocess.run(command, cwd=code, env=dict(os.environ, DATABASE_URL=url), check=True,
                          **kwargs)


def build(kind, code, seed_args):
    """(wall seconds, CPU seconds) of seed-demo with the code in `code`."""
    url = fresh_database(kind)
    for command in (["db", "upgrade"], ["checklists", "sync"]):
        flask(code, url, *command, capture_output=True)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    flask(code, url, "seed-demo", *seed_args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--audits", type=int, default=50000)
    parser.add_argument("--locations", type=int, default=250)
    parser.add_argument("--regions", type=int, default=5)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--baseline", type=Path, help="a directory holding the code to compare with")
    options = parser.parse_args()
    seed_args = ["--audits", str(options.audits), "--locations", str(options.locations),
                 "--regions", str(options.regions), "--seed", str(options.seed), "--until", "2026-12-01"]
    print(f"flask seed-demo {' '.join(seed_args)}  ({os.cpu_count()} cores)")
    for kind in (["sqlite", "postgresql"] if options.db == "both" else [options.db]):
        wall, cpu = build(kind, ROOT, seed_args)
        print(f"  {kind:10} this code: wall {wall:7.1f} s  cpu {cpu:7.1f} s  "
              f"(load average {os.getloadavg()[0]:.1f})", flush=True)
        if options.baseline:
            old_wall, old_cpu = build(kind, options.baseline, seed_args)
            print(f"  {kind:10} baseline:  wall {old_wall:7.1f} s  cpu {old_cpu:7.1f} s  "
                  f"(load average {os.getloadavg()[0]:.1f})")
            print(f"  {kind:10} baseline / this code: wall {old_wall / wall:.1f}x  cpu {old_cpu / cpu:.1f}x",
                  flush=True)


if __name__ == "__main__":
    main()
