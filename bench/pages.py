"""First load of the phone app's pages on a throttled phone: bytes and time.

Starts the app on a temporary SQLite database with the demo data, then, for each
page, opens a fresh phone (empty cache) in Debian's chromium with a slow mobile
network (1.6 Mbps down, 750 kbps up, 150 ms RTT) and a 4x slower CPU, and prints
what went over the wire (compressed) and when the page was usable: the manager's
home and audit pages, and the regional manager's home and her region's report (its
charts and sparklines included), for the demo region and for a generated region of
40 locations with three years of history (as `seed-demo --locations` makes them).

    python bench/pages.py            (or: make bench)
"""
import gzip
import logging
import os
import re
import secrets
import sys
import tempfile
import threading
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from audit_server import create_app  # noqa: E402
from audit_server.services import demo, demo_history  # noqa: E402
from audit_server.services.checklists import current_checklists, store_versions  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
NETWORK = {"offline": False, "latency": 150, "downloadThroughput": 1.6e6 / 8,
           "uploadThroughput": 750e3 / 8}
CPU_SLOWDOWN = 4
TARGET_TOTAL, TARGET_JS = 150 * 1024, 60 * 1024
MANAGER, REGIONAL = "madrid@momento.example", "norte@momento.example"
BIG_REGION_LOCATIONS, HISTORY_AUDITS = 40, 9000  # about 200 audits per location, as in the 1M set
BIG_REGIONAL = "regional.g1@momento.example"
# (name, path, who signs in)
PAGES = (("home", "/", MANAGER), ("walk-in", "/audit/walk-in?location=1", MANAGER),
         ("phone", "/audit/phone?location=1", MANAGER), ("regional home", "/", REGIONAL),
         ("region report", "/reports/regions/NORTE", REGIONAL),
         ("regional home, 40 loc.", "/", BIG_REGIONAL),
         ("report, 40 locations", "/reports/regions/G1", BIG_REGIONAL))


def shell_precache(base, request):
    """What the service worker downloads once, after the first page has loaded."""
    worker = request.get(f"{base}/sw.js").text()
    urls = re.search(r"const SHELL_FILES = (\[.*?\]);", worker).group(1).strip("[]").replace('"', "").split(",")
    static = Path(__file__).resolve().parent.parent / "static"
    return len(urls), sum(len(gzip.compress((static / u.strip().removeprefix("/static/")).read_bytes()))
                          for u in urls)


def start_app(folder):
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db",
                      "SESSION_COOKIE_SECURE": False})
    app.instance_path = folder
    with app.app_context():
        upgrade()
        store_versions(current_checklists())
        today = date.today()
        demo.seed_organisation()
        demo.seed_generated_organisation(1, BIG_REGION_LOCATIONS, 7, demo.history_start(today))
        demo_history.seed_history(HISTORY_AUDITS, today, 7)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def signed_in_phone(browser, base, email):
    context = browser.new_context(base_url=base, viewport={"width": 390, "height": 844},
                                  device_scale_factor=3, is_mobile=True, has_touch=True)
    login = context.request.get("/login").text()
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    context.request.post("/login", form={"email": email, "password": demo.DEMO_PASSWORD,
                                         "csrf_token": token})
    return context


def first_load(browser, base, path, email):
    context = signed_in_phone(browser, base, email)
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
    cdp.send("Network.emulateNetworkConditions", NETWORK)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": CPU_SLOWDOWN})
    kinds, sizes = {}, {}
    cdp.on("Network.responseReceived", lambda e: kinds.__setitem__(e["requestId"], (e["type"], e["response"]["url"])))
    cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
    page.goto(path, wait_until="load")
    page.wait_for_timeout(1500)  # let late requests (icons, the worker script) finish
    timing = page.evaluate("""() => { const n = performance.getEntriesByType('navigation')[0];
        return {interactive: n.domInteractive, ready: n.domContentLoadedEventEnd, load: n.loadEventEnd}; }""")
    context.close()
    total = sum(sizes.values())
    js = sum(size for rid, size in sizes.items() if kinds.get(rid, ("",))[0] == "Script")
    return {"requests": len(sizes), "total": total, "js": js, **timing}


def main():
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
    with tempfile.TemporaryDirectory() as folder, sync_playwright() as playwright:
        server, base = start_app(folder)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        print(f"First load, empty cache, {NETWORK['downloadThroughput'] * 8 / 1e6:.1f} Mbps down, "
              f"{NETWORK['latency']} ms RTT, CPU {CPU_SLOWDOWN}x slower (390x844 phone):")
        print(f"{'page':<22}{'requests':>9}{'total KB':>10}{'JS KB':>8}{'interactive':>13}{'ready':>8}{'load':>8}")
        ok = True
        for name, path, email in PAGES:
            r = first_load(browser, base, path, email)
            ok &= r["total"] < TARGET_TOTAL and r["js"] < TARGET_JS
            print(f"{name:<22}{r['requests']:>9}{r['total'] / 1024:>10.1f}{r['js'] / 1024:>8.1f}"
                  f"{r['interactive']:>11.0f}ms{r['ready']:>6.0f}ms{r['load']:>6.0f}ms")
        files, size = shell_precache(base, playwright.request.new_context())
        print(f"Then the service worker stores the app shell for offline use once: "
              f"{files} files, {size / 1024:.1f} KB compressed (upper bound: some are already cached).")
        print(f"Targets: total < {TARGET_TOTAL // 1024} KB, JS < {TARGET_JS // 1024} KB: "
              + ("met" if ok else "NOT MET"))
        browser.close()
        server.shutdown()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
