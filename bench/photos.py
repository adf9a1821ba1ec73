"""Photo upload processing, measured: time and peak memory per upload, by format, and the
peak of one process taking 8 uploads at once.

    .venv/bin/python bench/photos.py

Makes (with tests/photo_samples.py) a 12 MP JPEG with camera noise, EXIF orientation 6
and capture time, as a phone writes it; a 12 MP RGBA PNG; a 49 MP WebP of under 100 KB
(the decompression bomb of issue 11); and a 12 MP HEIC. Then, in a fresh process per
measurement, times
  floor:  what decoding that file must cost with Pillow at least: open, draft (JPEG's
          reduced-scale decoding, HEIC's embedded thumbnail), decode, one resize to the
          display size;
  upload: what the service does per upload (services/photos.py read_original +
          process_image with the default limits: hash, check the header against the
          pixel and memory budget, decode, orient, display + thumbnail, encode), or how
          soon it refuses the photo;
and reports the median CPU time of several runs (steady even when other processes share
the machine), the best wall-clock time, and the peak memory the first run added to the
process (VmHWM after resetting it, minus VmRSS before: ru_maxrss would also count the
parent's peak, which a child inherits), next to the budget's estimate (decoding_bytes).

Then one process (the app, on a SQLite database of its own) takes 8 uploads at once
through its real upload path (8 threads of the Flask test client posting to
/api/v1/audits/<id>/photos, decoding bound included): its peak, with the default
PHOTO_DECODE_SLOTS and with as many slots as uploads (no bound), for comparison.
Targets: peak per upload < 150 MB for anything accepted; upload within 1.5x the floor.
"""
import io
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

RUNS = 5
ROUNDS = 2
CONCURRENT = 8
TARGET_MB = 150


def make_photos(folder):
    """{label: path} of the photos measured."""
    from tests import photo_samples

    photos = {
        "12 MP JPEG": ("jpg", photo_samples.camera_jpeg(orientation=6)),
        "12 MP RGBA PNG": ("png", photo_samples.camera_png((4032, 3024), noise=0.1)),
        "49 MP WebP": ("webp", photo_samples.webp_of_49_megapixels()),
        "12 MP HEIC": ("heic", photo_samples.camera_heic((4032, 3024))),
    }
    paths = {}
    for label, (extension, data) in photos.items():
        paths[label] = Path(folder) / f"{label.replace(' ', '-')}.{extension}"
        paths[label].write_bytes(data)
    return paths


def floor(path):
    from PIL import Image

    from audit_server.services.photos import DISPLAY_LONG_SIDE, fit

    with Image.open(path) as image:
        image.draft("RGB", fit(image.size, DISPLAY_LONG_SIDE))
        image.resize(fit(image.size, DISPLAY_LONG_SIDE), Image.Resampling.LANCZOS)


def upload(path):
    from audit_server.config import Config
    from audit_server.services.errors import ServiceError
    from audit_server.services.photos import ImageLimits, process_image, read_original

    with open(path, "rb") as stream:
        read_original(stream, Config.PHOTO_MAX_BYTES)
        try:
            return process_image(stream, ImageLimits.from_config(vars(Config)))
        except ServiceError as refused:
            return refused


def estimate_mb(path):
    """The budget's estimate of what decoding the file holds (services/photos.py)."""
    from audit_server.services.photos import DISPLAY_LONG_SIDE, decoding_bytes, fit, open_image

    with open(path, "rb") as stream:
        image = open_image(stream, 10**9)
        full_size = image.size
        image.draft("RGB", fit(full_size, DISPLAY_LONG_SIDE))
        return decoding_bytes(image, full_size) / 2**20


def memory_kb(field):
    """VmRSS (held now) or VmHWM (peak) of this process, in kB, from /proc."""
    status = Path("/proc/self/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith(field + ":"))
    return int(line.split()[1])


def measure(kind, path):
    """In this (fresh) process: CPU and wall milliseconds of RUNS runs, and the peak memory
    the first run added to what the process held before it."""
    work = {"floor": floor, "upload": upload}[kind]
    import audit_server.services.photos  # noqa: F401  (imports are not part of the cost)

    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from here
    before = memory_kb("VmRSS")
    cpu, wall = [], []
    for run in range(RUNS):
        start_cpu, start_wall = time.process_time(), time.perf_counter()
        outcome = work(path)
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
        if run == 0:
            peak_kb = memory_kb("VmHWM") - before
    refused = getattr(outcome, "message", None)
    print(json.dumps({"cpu_ms": statistics.median(cpu), "wall_ms": min(wall),
                      "peak_mb": peak_kb / 1024, "refused": refused}))


def concurrent_uploads(slots, paths):
    """In this (fresh) process: the app takes CONCURRENT uploads at once (the photos in
    turn); prints its peak memory during them and how they were answered."""
    from flask_migrate import upgrade

    from audit_server import create_app
    from tests.helpers import Org, audit_body

    folder = tempfile.mkdtemp()
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                      "PHOTO_DIR": f"{folder}/photos", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
                      "PHOTO_DECODE_SLOTS": slots, "PHOTO_DECODE_WAIT_SECONDS": 60})
    with app.app_context():
        upgrade()
        organisation = Org(app)
        headers = organisation.headers("manager")
        location = organisation.locations["N1"]
    client = app.test_client()
    audit = client.post("/api/v1/audits", json=audit_body(location), headers=headers).json
    photos = [Path(path).read_bytes() for path in paths]
    answers, start = [], threading.Barrier(CONCURRENT)

    def send(data):
        start.wait()
        response = client.post(f"/api/v1/audits/{audit['id']}/photos", headers=headers,
                               content_type="multipart/form-data",
                               data={"id": str(uuid.uuid4()), "photo": (io.BytesIO(data), "p")})
        answers.append(response.status_code)

    threads = [threading.Thread(target=send, args=(photos[n % len(photos)],))
               for n in range(CONCURRENT)]
    Path("/proc/self/clear_refs").write_text("5")
    before = memory_kb("VmRSS")
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print(json.dumps({"peak_mb": (memory_kb("VmHWM") - before) / 1024,
                      "seconds": time.perf_counter() - began, "answers": sorted(answers)}))


def run_child(*args):
    output = subprocess.run([sys.executable, __file__, *map(str, args)], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    from audit_server.config import Config

    with tempfile.TemporaryDirectory() as folder:
        paths = make_photos(folder)
        print(f"{RUNS} runs in each of {ROUNDS} fresh processes per measurement; budget "
              f"PHOTO_DECODE_MAX_BYTES = {Config.PHOTO_DECODE_MAX_BYTES // 2**20} MB")
        print(f"{'photo':15} {'file':>8}  {'':6} {'CPU ms':>8} {'wall ms':>8} {'peak MB':>8}  "
              f"{'estimate':>8}  outcome")
        worst = 0
        for label, path in paths.items():
            results = {"floor": [], "upload": []}
            for _ in range(ROUNDS):  # alternate, so that a busy moment hurts both alike
                for kind in results:
                    results[kind].append(run_child("measure", kind, path))
            estimate = estimate_mb(path)
            for kind, runs in results.items():
                refused = runs[0]["refused"]
                if kind == "upload":
                    worst = max(worst, max(r["peak_mb"] for r in runs))
                    first = ("", "", "", refused and f"refused (422): {refused}" or "accepted")
                else:
                    first = (label, f"{path.stat().st_size / 1e6:.2f} MB", f"{estimate:.0f}",
                             "decoded by Pillow, the least it takes")
                name, size, estimated, outcome = first
                print(f"{name:15} {size:>8}  {kind:6} {min(r['cpu_ms'] for r in runs):8.0f} "
                      f"{min(r['wall_ms'] for r in runs):8.0f} "
                      f"{max(r['peak_mb'] for r in runs):8.0f}  {estimated:>8}  {outcome}")
        print(f"largest peak of an upload: {worst:.0f} MB (target < {TARGET_MB} MB)")
        accepted = [path for label, path in paths.items() if "WebP" not in label]
        for slots, note in ((Config.PHOTO_DECODE_SLOTS, "the default bound"),
                            (CONCURRENT, "no bound, for comparison")):
            result = run_child("concurrent", slots, *accepted)
            print(f"{CONCURRENT} concurrent uploads (JPEG, PNG, HEIC in turn) in one process, "
                  f"PHOTO_DECODE_SLOTS={slots} ({note}): peak +{result['peak_mb']:.0f} MB, "
                  f"{result['seconds']:.1f} s, answers {result['answers']}")


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "measure":
        measure(sys.argv[2], sys.argv[3])
    elif len(sys.argv) > 2 and sys.argv[1] == "concurrent":
        concurrent_uploads(int(sys.argv[2]), sys.argv[3:])
    else:
        main()
