"""The opening-hour load through the production topology on this machine, with locust:
nginx (deploy/nginx.conf) in front of two app servers (gunicorn.conf.py), on PostgreSQL,
a photo store shared by both (a folder, or with --store s3 a bucket of moto_server, an
S3-protocol server on loopback), and Redis for the sign-in throttling.

    .venv/bin/python bench/load.py [--seconds 300] [--managers 10] [--regionals 2]
                                   [--workers 2] [--max-requests 50000] [--history 20000]
                                   [--store local|s3] [--kill-one-at S] [--photos-in-a-worker]

Simulated managers (locust users, each signed in with its own account at a shop of its
own) do walk-in and phone audits, each with two photos of real size (300 KB to 2.5 MB of
camera noise), one after the other with 1 to 3 s between, as the phone's outbox sends
them: an answer of 502, 503 or 504, or none, is sent again with the same ids (after its
Retry-After, at most 5 s). Regional managers read region reports (JSON and the page) and
lists of audits. All of it for --seconds, and at most --max-requests requests, to loopback
only (the script refuses another host).

It prints, per kind of request: how many, failures, per second, p50/p95/p99 in ms; the
audits per second that were stored with both their photos; then reconciles against the
database and the store: every audit and photo the phones were told was stored is there
exactly once, nothing else is there, no blob is an orphan and `flask photos verify` is
clean. Last, the bare-insert ceiling of this machine in the same run: bench/baseline_app.py
(bare Flask inserting one row per request) on the same topology, driven as hard as the
same number of locust users can, and the audits' rate as a share of it.

Targets (issue 16): p95 under 500 ms for the audits, 0 lost and 0 duplicated.
--kill-one-at 60 kills one app server with -9 a minute in (the long version of the fault
test in tests/deploy/): nginx and the phones' retries move to the other, nothing is lost.
The database is a new one on TEST_PG_SERVER, dropped at the end (--keep keeps it).
"""
import argparse
import contextlib
import io
import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))
PG_SERVER = os.environ.get("TEST_PG_SERVER", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
REGION = "LB"  # the region of the shops the load's managers audit
PASSWORD = "carga-de-apertura-2026"  # noqa: S105 (the bench's own accounts)


# --- run in a subprocess of its own: setting up and reconciling (no gevent there) ---

def prepare(managers, regionals, history):
    """Migrate, sync the checklists, seed a history for the reports, and make the load's
    region, a shop and an account per manager, and the regional managers (on the database
    and photo store of the environment's settings)."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from audit_server import create_app
    from audit_server.extensions import db
    from audit_server.services import accounts, demo, demo_history, org

    app = create_app()
    with app.app_context():
        upgrade()
        assert app.test_cli_runner().invoke(args=["checklists", "sync"]).exit_code == 0
        demo.seed_organisation()
        demo_history.seed_history(history, datetime.now(UTC).date(), 7)
        org.create_region(REGION, "Carga · Región Ñ")
        org.import_locations("code,name,region,address,phone,timezone\n" + "".join(
            f"{REGION}{n:03},Tienda {n} «Ñandú»,{REGION},Calle Mayor {n},,Europe/Madrid\n" for n in range(managers)))
        for n in range(managers):
            accounts.create_user(f"gerente{n}@carga.example", "manager", PASSWORD, [], [f"{REGION}{n:03}"],
                                 name=f"Gerente {n} — Tienda {n}")
        regions = [code for code, _ in demo.REGIONS] + [REGION]
        for n in range(regionals):
            accounts.create_user(f"regional{n}@carga.example", "regional", PASSWORD, regions, [],
                                 name=f"Regional {n}")
        sa.Table("bench_rows", sa.MetaData(), sa.Column("id", sa.Uuid, primary_key=True),
                 sa.Column("body", sa.Text)).create(db.engine)
        db.engine.dispose()
    print(json.dumps({"regions": regions}))


def reconcile(sent_file):
    """What the store and the database hold against what the phones were told was stored."""
    import sqlalchemy as sa

    from audit_server import create_app
    from audit_server.extensions import db
    from audit_server.models import Audit, Location, Photo, Region
    from audit_server.services.photos import referenced_blobs
    from audit_server.storage import photo_store

    sent = json.loads(Path(sent_file).read_text())
    app = create_app()
    with app.app_context():
        at_load = (sa.select(Location.id).join(Region, Location.region_id == Region.id)
                   .where(Region.code == REGION))
        audits = [str(a) for a in db.session.scalars(sa.select(Audit.id).where(Audit.location_id.in_(at_load)))]
        photos = [str(p) for p in db.session.scalars(sa.select(Photo.id).where(Photo.location_id.in_(at_load)))]
        orphans = {name for name, _ in photo_store().blobs()} - referenced_blobs()
    result = {}
    for kind, stored in (("audits", audits), ("photos", photos)):
        acknowledged = set(sent[kind])
        result[kind] = {"acknowledged": len(acknowledged), "stored": len(stored),
                        "lost": len(acknowledged - set(stored)),
                        "duplicated": len(stored) - len(set(stored)),
                        "in_flight": len(set(stored) & set(sent[f"unacknowledged_{kind}"])),
                        "unexpected": len(set(stored) - acknowledged - set(sent[f"unacknowledged_{kind}"]))}
    result["orphan_blobs"] = len(orphans)
    print(json.dumps(result))


def photo_worker(queue):
    """What a queue's worker would do with each photo (decode, turn, resize, encode both
    renditions, store them), for the jobs pushed on the Redis list `queue`, until the job
    "stop": prints how long each photo waited to appear."""
    import redis

    from audit_server.config import Config
    from audit_server.services.photos import ImageLimits, process_image
    from audit_server.storage import LocalPhotoStore

    photos = photo_pool()
    client = redis.Redis.from_url(REDIS, socket_timeout=None)
    store = LocalPhotoStore(tempfile.mkdtemp(prefix="momento-queue-"))
    limits = ImageLimits.from_config(vars(Config))
    waits = []
    while (job := client.blpop(queue, timeout=0)[1]) != b"stop":
        index, pushed = json.loads(job)
        processed = process_image(io.BytesIO(photos[index]), limits)
        store.put(processed.display.data, processed.content_type)
        store.put(processed.thumb.data, processed.content_type)
        waits.append(time.time() - pushed)
    print(json.dumps({"photos": len(waits), "waits": waits}))


# --- the load itself ---

def photo_pool():
    from tests import photo_samples

    return [photo_samples.jpeg_300kb(), photo_samples.phone_resized_jpeg(), photo_samples.megabyte_jpeg(),
            photo_samples.camera_jpeg((3000, 2250), 92)]


def users(photos, regions, sent, sent_lock, photo_queue=None):
    """The locust users. With `photo_queue` (a Redis list), the managers' photos are not
    uploaded: each is a job pushed there for photo_worker(), the queued design's stand-in."""
    from locust import HttpUser, between, task

    from tests.helpers import best_phone, failing

    managers = iter(range(10**6))
    regionals = iter(range(10**6))
    walk_in_failures = ["smile", "floor_clean", "entrance_clear"]

    class Phone(HttpUser):
        """What the outbox does: send until stored, again with the same ids after 5xx."""
        abstract = True

        def send(self, name, method, path, **kwargs):
            for attempt in range(30):
                tried = f"{name} (again)" if attempt else name
                with self.client.request(method, path, name=tried, catch_response=True, timeout=60,
                                         **kwargs) as answer:
                    if answer.status_code in (200, 201):
                        answer.success()
                        return True
                    if answer.status_code in (0, 502, 503, 504):
                        answer.failure(f"{answer.status_code}: sent again")
                        time.sleep(min(float(answer.headers.get("Retry-After") or 1), 5))
                        continue
                    answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                    return False
            return False

        def sign_in(self, email):
            answer = self.client.post("/api/v1/auth/token", json={"email": email, "password": PASSWORD},
                                      name="sign-in (token)")
            self.client.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    class Manager(Phone):
        wait_time = between(1, 3)

        def on_start(self):
            self.number = next(managers)
            self.sign_in(f"gerente{self.number}@carga.example")
            self.location_id = self.client.get("/api/v1/locations", name="locations").json()[0]["id"]

        def audit(self, kind, checklist_id, answers, item_ids):
            started = datetime.now(UTC) - timedelta(minutes=3)
            body = {"id": str(uuid.uuid4()), "location_id": self.location_id, "checklist_id": checklist_id,
                    "started_at": started.isoformat(),
                    "submitted_at": (started + timedelta(minutes=2)).isoformat(),
                    "answers": answers, "notes": "Abrimos a las 9:00 — ¿nadie saludó? 😕"}
            photo_ids = [str(uuid.uuid4()) for _ in item_ids]
            with sent_lock:
                sent["unacknowledged_audits"].append(body["id"])
                sent["unacknowledged_photos"].extend(photo_ids)
            if not self.send(f"audit ({kind})", "POST", "/api/v1/audits", json=body):
                return
            sent["audits"].append(body["id"])
            if photo_queue is not None:
                queue, redis_client = photo_queue
                for _ in item_ids:
                    redis_client.rpush(queue, json.dumps([random.randrange(len(photos)), time.time()]))
                sent["complete"].append(time.monotonic())
                return
            stored = 0
            for photo_id, item_id in zip(photo_ids, item_ids, strict=True):
                data = random.choice(photos) + secrets.token_bytes(16)  # each upload its own bytes
                form = {"id": photo_id, "caption": "Foto del fallo · ñ 📷"}
                if item_id:
                    form["item_id"] = item_id
                if self.send("photo", "POST", f"/api/v1/audits/{body['id']}/photos", data=form,
                             files={"photo": ("foto.jpg", data, "image/jpeg")}):
                    sent["photos"].append(photo_id)
                    stored += 1
            if stored == len(item_ids):
                sent["complete"].append(time.monotonic())

        @task
        def walk_in(self):
            first, second = random.sample(walk_in_failures, 2)
            self.audit("walk-in", "five_second_walk_in", failing(first, second), [first, second])

        @task
        def phone(self):
            answers = best_phone()
            answers["owned"] = {"value": False}
            self.audit("phone", "call_your_own_number", answers, [None, None])

    class Regional(Phone):
        wait_time = between(2, 5)

        def on_start(self):
            self.sign_in(f"regional{next(regionals)}@carga.example")

        @task(3)
        def report(self):
            self.send("region report (API)", "GET", f"/api/v1/reports/regions/{random.choice(regions)}")

        @task(2)
        def report_page(self):
            self.send("region report (page)", "GET", f"/reports/regions/{random.choice(regions)}")

        @task
        def audits(self):
            self.send("audit list", "GET", "/api/v1/audits?per_page=50")

    return Manager, Regional


class Baseline:
    """Locust users posting bare rows to bench/baseline_app.py as fast as they are answered."""

    @staticmethod
    def user():
        from locust import HttpUser, constant, task

        class Inserter(HttpUser):
            wait_time = constant(0)

            @task
            def insert(self):
                row = {"id": str(uuid.uuid4()), "body": "x" * 900}
                self.client.post("/rows", json=row, name="bare insert")

        return Inserter


def run_locust(user_classes, host, user_count, seconds, max_requests):
    """Run the users against `host` for `seconds` or `max_requests` requests: (stats, seconds)."""
    import gevent
    from locust.env import Environment

    environment = Environment(user_classes=user_classes, host=host)
    runner = environment.create_local_runner()
    counted = [0]

    def on_request(**_):
        counted[0] += 1
        if counted[0] == max_requests:
            gevent.spawn(runner.quit)

    environment.events.request.add_listener(on_request)
    start = time.monotonic()
    runner.start(user_count, spawn_rate=user_count)
    stopper = gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    stopper.kill()
    return environment.stats, time.monotonic() - start


def table(stats, elapsed):
    print(f"  {'request':<26}{'count':>8}{'failed':>8}{'per s':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}")
    for entry in sorted(stats.entries.values(), key=lambda e: e.name):
        print(f"  {entry.name:<26}{entry.num_requests:>8}{entry.num_failures:>8}"
              f"{entry.num_requests / elapsed:>8.2f}{entry.get_response_time_percentile(0.5):>9.0f}"
              f"{entry.get_response_time_percentile(0.95):>9.0f}{entry.get_response_time_percentile(0.99):>9.0f}")
    for error in stats.errors.values():
        print(f"  error: {error.occurrences} x {error.method} {error.name}: {error.error}")


def helper(env, *args):
    """This script run again with `args` and the settings of `env`: the JSON it prints last."""
    answer = subprocess.run([sys.executable, __file__, *args], cwd=ROOT, env=env, check=True,
                            capture_output=True, text=True)
    return json.loads(answer.stdout.strip().splitlines()[-1])


def photo_store_settings(kind, workdir, stack):
    """The settings of the photo store: a folder in `workdir`, or a bucket of moto_server
    (moto's S3-protocol server, on a loopback port, stopped with `stack`)."""
    if kind == "local":
        return {"PHOTO_DIR": str(Path(workdir) / "photos")}
    import boto3

    from tests.topology import free_port, wait_for_port

    port = free_port()
    server = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    stack.callback(server.terminate)
    wait_for_port(port, server, "moto_server")
    settings = {"PHOTO_STORE": "s3", "S3_ENDPOINT_URL": f"http://127.0.0.1:{port}", "S3_BUCKET": "momento-load",
                "S3_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "momento", "AWS_SECRET_ACCESS_KEY": "momento-secret"}
    boto3.client("s3", endpoint_url=settings["S3_ENDPOINT_URL"], region_name="us-east-1",
                 aws_access_key_id="momento", aws_secret_access_key="momento-secret"  # noqa: S106
                 ).create_bucket(Bucket=settings["S3_BUCKET"])
    return settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--managers", type=int, default=10)
    parser.add_argument("--regionals", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--history", type=int, default=20_000, help="audits of history for the reports")
    parser.add_argument("--baseline-seconds", type=float, default=30)
    parser.add_argument("--kill-one-at", type=float, default=None, metavar="SECONDS",
                        help="kill -9 one of the two app servers this long into the load (the fault's long version)")
    parser.add_argument("--photos-in-a-worker", action="store_true",
                        help="the queued design instead: managers send no photos; each is a job on a Redis "
                             "list that a worker process (photo_worker) processes and stores")
    parser.add_argument("--keep", action="store_true", help="keep the database")
    parser.add_argument("--photo-worker", help=argparse.SUPPRESS)
    parser.add_argument("--store", choices=["local", "s3"], default="local",
                        help="photos in a folder both servers share, or in an S3 bucket (moto_server, "
                             "an S3-protocol server on loopback, started for the run)")
    parser.add_argument("--prepare", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--reconcile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.prepare:
        return prepare(*(int(number) for number in args.prepare))
    if args.reconcile:
        return reconcile(args.reconcile)
    if args.photo_worker:
        return photo_worker(args.photo_worker)

    import gevent.lock  # locust's users are greenlets: patch before anything opens a socket
    import locust  # noqa: F401

    from bench.submit import make_database
    from tests.topology import topology

    with tempfile.TemporaryDirectory() as workdir, contextlib.ExitStack() as stack:
        database_url, drop = make_database("postgresql", workdir)
        if not args.keep:
            stack.callback(drop)
        store = photo_store_settings(args.store, workdir, stack)
        env = {**os.environ, "DATABASE_URL": database_url, **store, "PYTHONPATH": str(ROOT),
               "RATELIMIT_STORAGE_URI": REDIS, "RATELIMIT_KEY_PREFIX": f"momento-load-{uuid.uuid4().hex}",
               "SESSION_COOKIE_SECURE": "false", "LOG_LEVEL": "warning"}
        started = time.monotonic()
        prepared = helper(env, "--prepare", str(args.managers), str(args.regionals), str(args.history))
        where = store.get("PHOTO_DIR") or f"bucket {store.get('S3_BUCKET')} of {store.get('S3_ENDPOINT_URL')}"
        print(f"Prepared a database with {args.history} audits of history, {args.managers} managers' shops "
              f"and {args.regionals} regional managers in {time.monotonic() - started:.0f} s; photos in {where}.")
        photos = photo_pool()
        print(f"Photos: {', '.join(f'{len(p) // 1024} KB' for p in photos)}, two per audit.")
        sent = {"audits": [], "photos": [], "complete": [], "unacknowledged_audits": [],
                "unacknowledged_photos": []}
        with topology(env, workdir, servers=2, workers=args.workers) as (nginx, servers):
            assert nginx.url.startswith("http://127.0.0.1:")  # loopback only
            photo_queue = worker = None
            if args.photos_in_a_worker:
                import redis

                photo_queue = (f"momento-load-photos-{uuid.uuid4().hex}", redis.Redis.from_url(REDIS))
                worker = subprocess.Popen([sys.executable, __file__, "--photo-worker", photo_queue[0]],
                                          cwd=ROOT, stdout=subprocess.PIPE, text=True)
                print("  (photos: not uploaded; each is a job for a worker process on a Redis list)")
            manager, regional = users(photos, prepared["regions"], sent, gevent.lock.RLock(), photo_queue)
            manager.weight, regional.weight = args.managers, args.regionals
            manager.fixed_count, regional.fixed_count = args.managers, args.regionals
            print(f"\nLoad: {args.managers} managers and {args.regionals} regional managers through nginx "
                  f"to 2 app servers x {args.workers} workers, for {args.seconds:.0f} s "
                  f"(at most {args.max_requests} requests):")
            if args.kill_one_at is not None:
                def kill():
                    servers[0].kill()
                    print(f"  (app server {servers[0].url} was killed with -9 at {args.kill_one_at:.0f} s)")
                gevent.spawn_later(args.kill_one_at, kill)
            stats, elapsed = run_locust([manager, regional], nginx.url, args.managers + args.regionals,
                                        args.seconds, args.max_requests)
            table(stats, elapsed)
            upstreams = {}
            for line in nginx.access_lines():
                upstream = json.loads(line)["upstream"]
                key = "tried on both (the first failed)" if "," in upstream else upstream
                upstreams[key] = upstreams.get(key, 0) + 1
            print("  requests by app server (nginx's log): "
                  + "; ".join(f"{where}: {count}" for where, count in sorted(upstreams.items())))
            audits_p95 = max(stats.get(f"audit ({kind})", "POST").get_response_time_percentile(0.95)
                             for kind in ("walk-in", "phone"))
            photos_p95 = stats.get("photo", "POST").get_response_time_percentile(0.95) or 0
            complete = len(sent["complete"])
            audit_rate = complete / elapsed
            print(f"  audits stored with both photos: {complete} in {elapsed:.0f} s = {audit_rate:.2f} per second")
            if worker is not None:
                backlog = photo_queue[1].llen(photo_queue[0])
                photo_queue[1].rpush(photo_queue[0], "stop")
                done = json.loads(worker.communicate(timeout=3600)[0].strip().splitlines()[-1])
                waits = sorted(done["waits"])
                photos_p95 = waits[int(len(waits) * 0.95)] * 1000 if waits else 0
                print(f"  the worker processed {done['photos']} photos ({backlog} were waiting when the load "
                      f"stopped); a photo appeared after p50 {waits[len(waits) // 2] * 1000:.0f} ms, "
                      f"p95 {photos_p95:.0f} ms, at most {waits[-1] * 1000:.0f} ms")

        sent_file = Path(workdir) / "sent.json"
        acknowledged = {"audits": set(sent["audits"]), "photos": set(sent["photos"])}
        sent["unacknowledged_audits"] = sorted(set(sent["unacknowledged_audits"]) - acknowledged["audits"])
        sent["unacknowledged_photos"] = sorted(set(sent["unacknowledged_photos"]) - acknowledged["photos"])
        sent_file.write_text(json.dumps(sent))
        found = helper(env, "--reconcile", str(sent_file))
        print("\nReconciled with the database and the store:")
        for kind in ("audits", "photos"):
            f = found[kind]
            print(f"  {kind}: {f['acknowledged']} acknowledged to the phones, {f['stored']} stored; "
                  f"lost {f['lost']}, duplicated {f['duplicated']}, stored but never sent {f['unexpected']} "
                  f"(and {f['in_flight']} stored while their answer was on its way at the stop)")
        verify = subprocess.run([sys.executable, "-m", "flask", "--app", "audit_server", "photos", "verify"],
                                cwd=ROOT, env=env, capture_output=True, text=True)
        print(f"  orphan blobs: {found['orphan_blobs']}; `flask photos verify`: exit {verify.returncode}, "
              f"{((verify.stdout + verify.stderr).strip().splitlines() or ['(nothing printed)'])[-1]}")

        with topology({**env, "GUNICORN_MAX_REQUESTS": "0"}, workdir, servers=2, workers=args.workers,
                      app_spec="bench.baseline_app:app") as (nginx, _servers):
            users_count = args.managers + args.regionals
            print(f"\nBare-insert ceiling: bench/baseline_app.py on the same topology, {users_count} users "
                  f"posting without a pause, for {args.baseline_seconds:.0f} s:")
            stats, elapsed = run_locust([Baseline.user()], nginx.url, users_count, args.baseline_seconds,
                                        args.max_requests)
            table(stats, elapsed)
            ceiling = stats.total.num_requests / elapsed
        print(f"\nAudits with two photos: {audit_rate:.2f} per second; bare inserts: {ceiling:.0f} per second; "
              f"ratio {audit_rate / ceiling:.4f} (each audit is 3 requests, 2 of them photos to decode).")
        lost = found["audits"]["lost"] + found["photos"]["lost"]
        duplicated = found["audits"]["duplicated"] + found["photos"]["duplicated"]
        print(f"p95 of the audits: {audits_p95:.0f} ms, of the photos: {photos_p95:.0f} ms "
              f"(target: under 500 ms: {'met' if max(audits_p95, photos_p95) < 500 else 'NOT met'}).")
        print(f"Lost: {lost}; duplicated: {duplicated}; orphan blobs: {found['orphan_blobs']}.")
        return 0 if lost == duplicated == found["orphan_blobs"] == verify.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
