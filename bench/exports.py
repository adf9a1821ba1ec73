"""The exports on the million-audit data set: time, time to the first byte and the
server's peak memory, on SQLite and on PostgreSQL.

    .venv/bin/python bench/exports.py [--db sqlite|postgresql|both]

Uses the data set bench/reports.py builds (`flask seed-demo --audits 1000000 --locations
5000 --regions 50 --seed 7 --until 2026-12-01`, in BENCH_SQLITE_PATH and BENCH_PG_DATABASE;
run bench/reports.py first). For each database it serves the app with gunicorn (one sync
worker, so that the worker's peak memory is the export's), signs in as the demo admin for
an API token, and downloads over HTTP:
  - audits.csv of every audit of the history (the whole data set);
  - audits.xlsx of the latest 100,000 audits (a period ending on the history's last day);
  - actions.csv and actions.xlsx of the same period.
For each: rows, megabytes, time to the first byte, total time, the CPU time the worker
used (on a busy machine the wall time stretches, this much less), the worker's peak
resident memory during the download (VmHWM, reset before it), and its memory before.
Targets: CSV of 1,000,000 audits and XLSX of 100,000 audits each under 60 s, with peak
memory under 200 MB.
"""
import argparse
import csv
import io
import os
import secrets
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

import requests
import sqlalchemy as sa
from openpyxl import load_workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from audit_server.services.demo import DEMO_PASSWORD  # noqa: E402
from bench.reports import database_url  # noqa: E402

ADMIN = "admin@momento.example"
TARGET_SECONDS, TARGET_MB = 60, 200
XLSX_AUDITS = 100_000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def periods(url):
    """(from, to) of the whole history, and (from, to) ending on its last day with about
    XLSX_AUDITS audits (whole UTC days)."""
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        first, last = connection.execute(sa.text(
            "SELECT min(submitted_at), max(submitted_at) FROM audits")).one()
        nth = connection.execute(sa.text(
            "SELECT submitted_at FROM audits ORDER BY submitted_at DESC LIMIT 1 OFFSET :n"),
            {"n": XLSX_AUDITS}).scalar()
    engine.dispose()
    first, last, nth = (date.fromisoformat(str(v)[:10]) for v in (first, last, nth))  # UTC days
    return (first, last), (nth + timedelta(days=1), last)


def worker_memory(master):
    """{pid: (VmRSS, VmHWM) in MB} of gunicorn's workers."""
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    memory = {}
    for pid in children:
        status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines())
        memory[pid] = tuple(int(status[key].split()[0]) / 1024 for key in ("VmRSS", "VmHWM"))
    return memory


def worker_cpu(master):
    """CPU seconds (user + system) the gunicorn worker has used: beside the wall time, what
    an export costs on a machine whose other CPU-bound work stretches the wall time."""
    (pid,) = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def serve(url):
    port = free_port()
    env = dict(os.environ, DATABASE_URL=url, SESSION_COOKIE_SECURE="false",
               PHOTO_DIR="/tmp/momento-bench-photos")
    server = subprocess.Popen([sys.executable, "-m", "gunicorn", "-w", "1", "-b", f"127.0.0.1:{port}",
                               "--timeout", "300", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    for _ in range(150):
        try:
            requests.get(f"{base}/login", timeout=2)
            return server, base
        except requests.RequestException:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("gunicorn did not start")


def download(server, base, token, path, params):
    for pid in worker_memory(server.pid):
        Path(f"/proc/{pid}/clear_refs").write_text("5")  # its peak (VmHWM) starts again from now
    (before_rss, _), = worker_memory(server.pid).values()
    cpu = worker_cpu(server.pid)
    started = time.perf_counter()
    response = requests.get(f"{base}/api/v1/exports/{path}", params=params, stream=True, timeout=600,
                            headers={"Authorization": f"Bearer {token}"})
    response.raise_for_status()
    body, first = io.BytesIO(), None
    for chunk in response.iter_content(1 << 16):
        if first is None:
            first = time.perf_counter() - started
        body.write(chunk)
    total = time.perf_counter() - started
    cpu = worker_cpu(server.pid) - cpu
    (_, peak), = worker_memory(server.pid).values()
    data = body.getvalue()
    if path.endswith(".csv"):
        rows = sum(1 for _ in csv.reader(io.StringIO(data.decode("utf-8-sig")))) - 1  # less the header
    else:
        sheet = load_workbook(io.BytesIO(data), read_only=True).active  # written without dimensions
        rows = sum(1 for _ in sheet.iter_rows(values_only=True)) - 1
    return rows, len(data) / 1e6, first, total, cpu, peak, before_rss


def bench(kind):
    url = database_url(kind)
    print(f"\n=== {kind}: {url}")
    everything, latest = periods(url)
    server, base = serve(url)
    try:
        token = requests.post(f"{base}/api/v1/auth/token", json={"email": ADMIN, "password": DEMO_PASSWORD},
                              timeout=30).json()["token"]
        runs = (("audits.csv", everything, "all audits"), ("audits.xlsx", latest, "latest ~100k"),
                ("actions.csv", latest, "same period"), ("actions.xlsx", latest, "same period"))
        print(f"{'export':<14}{'period':<26}{'rows':>9}{'MB':>8}{'first byte':>12}{'total':>9}"
              f"{'worker CPU':>11}{'peak MB':>9}{'before':>8}")
        ok = True
        for path, (start, end), what in runs:
            rows, size, first, total, cpu, memory, before = download(
                server, base, token, path, {"from": start.isoformat(), "to": end.isoformat(), "tz": "UTC"})
            if path.startswith("audits"):
                ok &= total < TARGET_SECONDS and memory < TARGET_MB
            print(f"{path:<14}{f'{start}..{end}':<26}{rows:>9}{size:>8.1f}{first * 1000:>10.0f}ms"
                  f"{total:>8.1f}s{cpu:>10.1f}s{memory:>9.0f}{before:>8.0f}   ({what})")
        print(f"Targets (audits): under {TARGET_SECONDS} s and {TARGET_MB} MB of peak memory: "
              + ("met" if ok else "NOT MET") + f"  (load average {os.getloadavg()[0]:.1f})")
    finally:
        server.terminate()
        server.wait(10)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    args = parser.parse_args()
    for kind in (["sqlite", "postgresql"] if args.db == "both" else [args.db]):
        bench(kind)


if __name__ == "__main__":
    main()
