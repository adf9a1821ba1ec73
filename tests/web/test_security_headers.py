"""Every HTML page carries the security headers (a strict CSP that forbids framing, nosniff,
Referrer-Policy, X-Frame-Options; HSTS over HTTPS only); every response carries a request id,
and the log lines of a request are JSON with that id; an unexpected error shows no traceback.

The pages are taken from the app's URL map: a new GET route must be added to PAGES (how to
open it) or to NOT_PAGES (why it is no HTML page), else test_every_get_route_is_known fails."""
import io
import json
import logging

import pytest

from audit_server.security_headers import CONTENT_SECURITY_POLICY, JsonLogHandler
from audit_server.services import checklists, invitations
from tests.helpers import WALK_IN, failing, submit

# endpoint: (who opens it, its path from the seeded data)
PAGES = {
    "web.login": (None, lambda d: "/login"),
    "web.home": ("manager", lambda d: "/"),
    "web.location_door": ("manager", lambda d: "/l/N1"),
    "web.location": ("manager", lambda d: "/locations/N1"),
    "web.walk_in": ("manager", lambda d: "/audit/walk-in"),
    "web.phone": ("manager", lambda d: "/audit/phone"),
    "web.audit": ("manager", lambda d: f"/audits/{d['audit']}"),
    "web.my_actions": ("manager", lambda d: "/actions"),
    "web.action": ("manager", lambda d: f"/actions/{d['action']}"),
    "web.reports_overview": ("admin", lambda d: "/reports"),
    "web.region_report": ("regional", lambda d: "/reports/regions/N"),
    "web.failed_item": ("regional", lambda d: f"/reports/regions/N/items/{WALK_IN}/floor_clean"),
    "admin.index": ("admin", lambda d: "/admin/"),
    "admin.activity": ("admin", lambda d: "/admin/activity"),
    "admin.throttling": ("admin", lambda d: "/admin/throttling"),
    "web.account": ("manager", lambda d: "/account"),
    "admin.regions": ("admin", lambda d: "/admin/regions"),
    "admin.regions_edit": ("admin", lambda d: "/admin/regions/N"),
    "admin.regions_qr_sheet": ("admin", lambda d: "/admin/regions/N/qr-sheet"),
    "admin.locations": ("admin", lambda d: "/admin/locations"),
    "admin.locations_new": ("admin", lambda d: "/admin/locations/new"),
    "admin.locations_edit": ("admin", lambda d: "/admin/locations/N1"),
    "admin.locations_poster": ("admin", lambda d: "/admin/locations/N1/poster"),
    "admin.cadence": ("admin", lambda d: "/admin/cadence"),
    "admin.users": ("admin", lambda d: "/admin/users"),
    "admin.users_edit": ("admin", lambda d: f"/admin/users/{d['user']}"),
    "admin.checklists": ("admin", lambda d: "/admin/checklists"),
    "admin.checklists_preview": ("admin", lambda d: f"/admin/checklists/{WALK_IN}/{d['walk_in_version']}"),
    "web.invitation": (None, lambda d: f"/invitations/{d['invitation']}"),
}
# endpoint: what it answers instead of a page
NOT_PAGES = {
    "static": "files: CSS, scripts, icons, the manifest",
    "web.service_worker": "the service worker's script",
    "photo_files.serve": "photo renditions (JPEG/WebP)",
    "api-docs.openapi_json": "the OpenAPI document",
    "admin.locations_qr": "a location's QR code (SVG image)",
    **{endpoint: "JSON or an export file" for endpoint in (
        "actions.list_actions", "auth.tokens", "actions.get_action", "actions.metrics",
        "audits.list_audits", "audits.get_audit", "audit_photos.list_photos",
        "checklists.list_checklists", "checklists.get_checklist",
        "exports.actions_csv", "exports.actions_xlsx", "exports.audits_csv", "exports.audits_xlsx",
        "locations.list_locations", "locations.get_location", "locations.location_due",
        "reports.organisation_report", "reports.region_report", "reports.failed_item_audits")},
}
EMAILS = {"manager": "manager@example.com", "regional": "regional@example.com",
          "admin": "admin@example.com"}


def get_endpoints(app):
    return {rule.endpoint for rule in app.url_map.iter_rules() if "GET" in rule.methods}


def assert_page_headers(response, path):
    headers = response.headers
    assert response.mimetype == "text/html", path
    assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert "'unsafe-inline'" not in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff", path
    assert headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
    assert headers["X-Frame-Options"] == "DENY", path


@pytest.fixture
def seeded(client, organisation):
    """An audit by the manager of N1 where the floor was not clean, and its action."""
    audit = submit(client, organisation, answers=failing("floor_clean"))
    token, _ = invitations.invite(None, "invited@example.com", "admin")
    return {"audit": audit["id"], "action": audit["actions"][0]["id"], "invitation": token,
            "user": organisation.ids["manager"],
            "walk_in_version": checklists.current_checklist(WALK_IN).version}


def test_every_get_route_is_known(app):
    unknown = get_endpoints(app) - PAGES.keys() - NOT_PAGES.keys()
    assert not unknown, f"add these GET routes to PAGES or NOT_PAGES: {sorted(unknown)}"
    gone = (PAGES.keys() | NOT_PAGES.keys()) - get_endpoints(app)
    assert not gone, f"no longer routes: {sorted(gone)}"


def test_every_html_page_carries_the_headers(app, web_on, organisation, seeded):
    sessions = {}
    for endpoint, (role, path_of) in PAGES.items():
        if role not in sessions:
            sessions[role] = web_on(app)
            if role:
                assert sessions[role].login(EMAILS[role]).status_code == 302
        path = path_of(seeded)
        response = sessions[role].get(path)
        assert response.status_code == 200, (endpoint, path, response.status_code)
        assert_page_headers(response, path)
        assert "Strict-Transport-Security" not in response.headers  # plain http
    # the error pages too, for a signed-in person and for nobody
    assert_page_headers(sessions["manager"].get("/locations/S1"), "/locations/S1 (404)")
    assert_page_headers(sessions[None].get("/no-such-page"), "/no-such-page")


def test_other_responses_carry_nosniff_and_frame_denial_but_no_page_policy(client, organisation):
    for path, headers in (("/static/js/app.js", {}), ("/sw.js", {}),
                          ("/static/manifest.webmanifest", {}),
                          ("/api/v1/locations", organisation.headers("manager")),
                          ("/api/v1/locations", {})):
        response = client.get(path, headers=headers)
        assert response.status_code in (200, 401), path
        assert response.headers["X-Content-Type-Options"] == "nosniff", path
        assert response.headers["X-Frame-Options"] == "DENY", path
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin", path
        assert "Content-Security-Policy" not in response.headers, path


def test_hsts_only_over_https(client):
    assert "Strict-Transport-Security" not in client.get("/login").headers
    for path in ("/login", "/static/js/app.js", "/api/v1/locations"):
        response = client.get(path, base_url="https://localhost")
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_a_sane_request_id_is_echoed_and_any_other_replaced(client):
    assert client.get("/login", headers={"X-Request-ID": "lb-7f3a-2026"}).headers["X-Request-ID"] == "lb-7f3a-2026"
    made = set()
    for hostile in (None, "", "a" * 65, "x y", "ñandú-😀", "id;Set-Cookie: x=1", "<script>"):
        headers = {} if hostile is None else {"X-Request-ID": hostile}
        given = client.get("/login", headers=headers).headers["X-Request-ID"]
        assert given != hostile and len(given) == 32 and int(given, 16) >= 0
        made.add(given)
    assert len(made) == 7  # a new one each time


def raising_app(make_app, **settings):
    other = make_app(**settings)

    @other.route("/boom")
    def boom():
        raise RuntimeError("secret detail: /srv/momento/audit_server/services/boom.py")

    @other.route("/api/v1/boom")
    def api_boom():
        raise RuntimeError("secret detail: /srv/momento/audit_server/services/boom.py")

    return other


def test_the_log_lines_of_a_request_are_json_with_its_id(make_app):
    raising_app(make_app, LOG_JSON=True)
    other = raising_app(make_app, LOG_JSON=True)  # a second app replaces the first's handler
    [handler] = [h for h in other.logger.handlers if isinstance(h, JsonLogHandler)]
    handler.setStream(io.StringIO())
    try:
        client = other.test_client()
        client.get("/login", headers={"X-Request-ID": "probe-1"})
        response = client.get("/api/v1/boom", headers={"X-Request-ID": "probe-2"})
        assert response.status_code == 500
        lines = [json.loads(line) for line in handler.stream.getvalue().splitlines()]
    finally:  # the logger is the process's: leave it as the other tests' apps expect
        other.logger.removeHandler(handler)
        other.logger.setLevel(logging.NOTSET)
    access = [line for line in lines if line["logger"] == "audit_server.access"]
    assert [(a["request_id"], a["method"], a["path"], a["status"]) for a in access] == [
        ("probe-1", "GET", "/login", 200), ("probe-2", "GET", "/api/v1/boom", 500)]
    assert all(a["level"] == "INFO" and a["duration_ms"] >= 0 and a["time"].endswith("+00:00")
               for a in access)
    [error] = [line for line in lines if line["level"] == "ERROR"]
    assert error["request_id"] == "probe-2" and error["logger"] == "audit_server.api.errors"
    assert error["message"] == "unhandled error on GET /api/v1/boom"
    assert "RuntimeError: secret detail" in error["exception"]  # kept in the log, not sent


def test_the_json_formatter_writes_one_object_a_line_away_from_requests():
    stream = io.StringIO()
    log = logging.getLogger("audit_server.tests.formatter")
    handler = JsonLogHandler(stream)
    log.addHandler(handler)
    try:
        log.warning("Línea con acentos y emoji 😀\nen dos renglones")
    finally:
        log.removeHandler(handler)
    [line] = stream.getvalue().splitlines()
    record = json.loads(line)
    assert record["message"] == "Línea con acentos y emoji 😀\nen dos renglones"
    assert record["request_id"] is None and record["level"] == "WARNING"


def test_no_stack_trace_reaches_the_client(make_app, caplog):
    other = raising_app(make_app)
    client = other.test_client()
    with caplog.at_level(logging.ERROR):
        api = client.get("/api/v1/boom", headers={"X-Request-ID": "probe-3"})
        page = client.get("/boom", headers={"Accept-Language": "es", "X-Request-ID": "probe-4"})
    assert api.status_code == 500
    assert api.get_json() == {"error": {"code": "internal_error", "fields": {},
                                        "message": "Something went wrong on our side; it has been logged."}}
    assert page.status_code == 500
    assert_page_headers(page, "/boom")
    html = page.get_data(as_text=True)
    assert "Algo ha fallado" in html and "probe-4" in html
    for response in (api, page):
        body = response.get_data(as_text=True)
        assert "Traceback" not in body and "secret detail" not in body and "boom.py" not in body
    assert sum("unhandled error" in r.getMessage() for r in caplog.records) == 2
