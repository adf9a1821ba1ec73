"""Photo upload processing, measured: milliseconds and peak memory per 12 MP photo.

    python bench/photos.py

Makes a 4032x3024 JPEG with realistic detail (gradients, shapes, sensor-like noise;
quality 90; EXIF orientation 6 and capture time, as a phone writes it), then, in a fresh process per measurement, times
  floor:  what any upload must cost at least: Pillow's draft-mode decode of the file
          and one resize to the display size, and
  upload: what the service does per upload (services/photos.py read_original +
          process_image: hash, check, decode, orient, display + thumbnail, encode),
and reports the median CPU time of several runs (steady even when other processes share
the machine), the best wall-clock time, and the peak memory the first run added to the
process (VmHWM after resetting it, minus VmRSS before: ru_maxrss would also count the
parent's peak, which a child inherits). Target: upload within 1.5x the floor, < 150 MB.
"""
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SIZE = (4032, 3024)
RUNS = 7
ROUNDS = 3


def make_photo(path):
    from PIL import ExifTags, Image, ImageChops, ImageDraw, ImageFilter

    width, height = SIZE
    light = Image.radial_gradient("L").resize(SIZE)
    sky = Image.linear_gradient("L").resize(SIZE)
    scene = Image.merge("RGB", (sky, light, ImageChops.invert(sky)))
    draw = ImageDraw.Draw(scene)
    for i in range(60):  # shelves, boxes and signs: edges for the encoder
        x, y = (i * 397) % width, (i * 211) % height
        colour = ((i * 37) % 256, (i * 91) % 256, (i * 53) % 256)
        draw.rectangle((x, y, x + 300, y + 180), fill=colour)
    scene = scene.filter(ImageFilter.GaussianBlur(1))
    noise = Image.merge("RGB", [Image.effect_noise(SIZE, 18) for _ in range(3)])
    exif = Image.Exif()  # held upright, as phones write it: the picture must be turned
    exif[ExifTags.Base.Orientation] = 6
    exif.get_ifd(ExifTags.IFD.Exif)[ExifTags.Base.DateTimeOriginal] = "2026:11:20 09:15:30"
    Image.blend(scene, noise, 0.4).save(path, "JPEG", quality=90, exif=exif)


def floor(path):
    from PIL import Image

    from audit_server.services.photos import DISPLAY_LONG_SIDE, fit

    with Image.open(path) as image:
        image.draft("RGB", fit(image.size, DISPLAY_LONG_SIDE))
        image.resize(fit(image.size, DISPLAY_LONG_SIDE), Image.Resampling.LANCZOS)


def upload(path):
    from audit_server.services.photos import process_image, read_original

    with open(path, "rb") as stream:
        read_original(stream, 25 * 1024 * 1024)
        return process_image(stream, 50_000_000)


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
        work(path)
        cpu.append((time.process_time() - start_cpu) * 1000)
        wall.append((time.perf_counter() - start_wall) * 1000)
        if run == 0:
            peak_kb = memory_kb("VmHWM") - before
    print(json.dumps({"cpu_ms": statistics.median(cpu), "wall_ms": min(wall),
                      "peak_mb": peak_kb / 1024}))


def run_child(kind, path):
    output = subprocess.run([sys.executable, __file__, kind, str(path)], check=True,
                            capture_output=True, text=True).stdout
    return json.loads(output)


def main():
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "photo.jpg"
        make_photo(path)
        photo = upload(path)
        print(f"12 MP JPEG {SIZE[0]}x{SIZE[1]}, quality 90, {path.stat().st_size / 1e6:.1f} MB; "
              f"{RUNS} runs in each of {ROUNDS} fresh processes per measurement")
        results = {"floor": [], "upload": []}
        for _ in range(ROUNDS):  # alternate, so that a busy moment hurts both alike
            for kind in results:
                results[kind].append(run_child(kind, path))
    print(f"renditions: {photo.content_type}, display {photo.display.width}x{photo.display.height} "
          f"{len(photo.display.data) // 1024} KB, thumb {len(photo.thumb.data) // 1024} KB")
    cpu = {kind: min(r["cpu_ms"] for r in runs) for kind, runs in results.items()}
    wall = {kind: min(r["wall_ms"] for r in runs) for kind, runs in results.items()}
    peak = {kind: max(r["peak_mb"] for r in runs) for kind, runs in results.items()}
    for kind, label in (("floor", "floor  (draft decode + one resize)"),
                        ("upload", "upload (services/photos.py)       ")):
        print(f"{label}: {cpu[kind]:6.1f} ms CPU, {wall[kind]:6.1f} ms wall (best), "
              f"peak +{peak[kind]:.0f} MB")
    print(f"ratio upload/floor: {cpu['upload'] / cpu['floor']:.2f} CPU, "
          f"{wall['upload'] / wall['floor']:.2f} wall (target <= 1.5); "
          f"peak memory per upload: {peak['upload']:.0f} MB (target < 150 MB)")

if __name__ == "__main__":
    if len(sys.argv) == 3:
        measure(sys.argv[1], sys.argv[2])
    else:
        main()
