"""Fixtures of the browser tests: Playwright (sync API) driving Debian's chromium in
phone emulation against the app served by a real HTTP server in a thread."""
import base64
import contextlib
import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.helpers import cannot_run_here

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]
HERE = Path(__file__).resolve().parent
AXE = HERE / "vendor" / "axe-core-4.14.1.min.js"
SCREENSHOTS = HERE / "screenshots"
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3,
         "is_mobile": True, "has_touch": True}


def _missing_browser():
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


class _SharedChromium:
    """One Playwright and one chromium for the whole run. Every test module that imports
    the `chromium` fixture gets an instance of it of its own, and Playwright's sync API
    cannot be started twice at once: the instances share this one, the last one out
    closes it."""

    def __init__(self):
        self.users = 0
        self.playwright = self.browser = None

    def start(self):
        if self.users == 0:
            from playwright.sync_api import sync_playwright

            self.playwright = sync_playwright().start()
            self.browser = self.playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        self.users += 1
        return self.browser

    def stop(self):
        self.users -= 1
        if self.users == 0:
            self.browser.close()
            self.playwright.stop()


_shared_chromium = _SharedChromium()


@pytest.fixture(scope="session")
def chromium():
    problem = _missing_browser()
    if problem:
        cannot_run_here(f"BROWSER TESTS NOT RUN: {problem}.")
    yield _shared_chromium.start()
    _shared_chromium.stop()


@contextlib.contextmanager
def served_in_a_thread(app):
    """An app served by a real HTTP server in a thread: its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(5)


@pytest.fixture(scope="session")
def live_server(app):
    with served_in_a_thread(app) as url:
        yield url


@pytest.fixture(scope="session")
def serve_in_a_thread():
    """Serve another app as `live_server` serves `app`: `with serve_in_a_thread(app) as url`."""
    return served_in_a_thread


@pytest.fixture
def phone(chromium, live_server, request):
    """A fresh phone (own cookies, storage and service worker) in English;
    mark a test with @pytest.mark.phone_locale("es-ES") for another language."""
    marker = request.node.get_closest_marker("phone_locale")
    context = chromium.new_context(base_url=live_server, locale=marker.args[0] if marker else "en-GB",
                                   service_workers="allow", **PHONE)
    context.set_default_timeout(15000)
    page = context.new_page()
    yield page
    context.close()


class Person:
    """What a manager does on their phone, step by step."""

    def __init__(self, page, organisation):
        self.page = page
        self.organisation = organisation

    def signs_in(self, role="manager"):
        self.page.goto("/")
        self.page.fill("#email", self.organisation.emails[role])
        self.page.fill("#password", self.organisation.PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_selector("#actions-title")  # home, whatever the person's locations

    def answers(self, item_id, value):
        self.page.click(f"label[for='{item_id}-{value}']")

    def looks_at(self, name):
        """Save a screenshot to look at (tests/browser/screenshots/, not committed)."""
        SCREENSHOTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def camera_photo(self, name="floor.jpg"):
        """A camera-sized photo (4000 x 3000 JPEG) of a scene with sensor noise, as a phone
        hands it over: several MB, which the page makes smaller before it is sent."""
        data_url = self.page.evaluate("""() => {
            const [width, height] = [4000, 3000];
            const canvas = Object.assign(document.createElement('canvas'), {width, height});
            const context = canvas.getContext('2d');
            const light = context.createLinearGradient(0, 0, width, height);
            light.addColorStop(0, '#d8c8b0');
            light.addColorStop(1, '#4a5a6a');
            context.fillStyle = light;
            context.fillRect(0, 0, width, height);
            for (let i = 0; i < 60; i++) {  // shelves, boxes and signs
                context.fillStyle = `rgb(${i * 37 % 256}, ${i * 91 % 256}, ${i * 53 % 256})`;
                context.fillRect(i * 397 % width, i * 211 % height, 300, 180);
            }
            const pixels = context.getImageData(0, 0, width, height);
            let seed = 12345;  // the sensor's noise, the same every run
            for (let i = 0; i < pixels.data.length; i++) {
                if (i % 4 === 3) continue;
                seed = (seed * 1103515245 + 12345) >>> 0;
                pixels.data[i] += (seed >>> 24) % 33 - 16;
            }
            context.putImageData(pixels, 0, 0);
            return canvas.toDataURL('image/jpeg', 0.9);
        }""")
        data = base64.b64decode(data_url.split(",", 1)[1])
        assert len(data) >= 500_000, len(data)  # as heavy as a real photo, not a flat colour
        return {"name": name, "mimeType": "image/jpeg", "buffer": data}

    def walks_in(self):
        """From home to the walk-in checklist, through the five seconds of just looking."""
        page = self.page
        page.click("text=Walk in as a customer")
        page.wait_for_selector("#start-walk-in")
        self.looks_at("walk-in-1-intro")
        page.click("#start-walk-in")
        page.wait_for_selector("#countdown:not([hidden])")
        self.looks_at("walk-in-2-countdown")
        page.wait_for_selector("#audit-form:not([hidden])", timeout=8000)

    def api(self, path):
        """GET an API resource with the page's own session, as its scripts do."""
        return self.page.evaluate("path => fetch(path).then(r => r.json())", path)

    def waits_until(self, predicate, arg=None, timeout=15):
        """Wait until the page's asynchronous `predicate` (a JS function of `arg`, reading
        IndexedDB, the caches, an image's size...) resolves to a truthy value. Playwright's
        wait_for_function cannot: it takes the promise itself for a truthy value, and it
        polls by eval, which the pages' Content-Security-Policy (no 'unsafe-eval') refuses."""
        deadline = time.monotonic() + timeout
        while not self.page.evaluate(predicate, arg):
            if time.monotonic() > deadline:
                pytest.fail(f"not true after {timeout} s: {predicate}")
            self.page.wait_for_timeout(100)

    def waits_for_the_service_worker(self):
        # Activated is what a start with no signal needs: the next navigation goes through it.
        # (The page itself may stay uncontrolled when it loaded while the worker activated.)
        self.waits_until("""() => navigator.serviceWorker.getRegistration()
            .then(r => !!r && !!r.active && r.active.state === 'activated')""")

    def waits_for_the_audit_pages_in_the_cache(self):
        self.waits_until("""() => caches.open('momento-pages').then(c => c.keys())
                                 .then(keys => keys.some(r => r.url.includes('/audit/walk-in')))""")

    def serious_accessibility_problems(self):
        # Evaluated by the test, not added as an inline <script>: the pages' CSP refuses those.
        self.page.evaluate(AXE.read_text(encoding="utf-8"))
        violations = self.page.evaluate("async () => (await axe.run(document)).violations")
        return [f"{v['id']} ({v['impact']}): {v['help']} -> "
                + "; ".join(node["target"][0] for node in v["nodes"][:5])
                for v in violations if v["impact"] in ("serious", "critical")]


@pytest.fixture
def person(phone, organisation):
    return Person(phone, organisation)
