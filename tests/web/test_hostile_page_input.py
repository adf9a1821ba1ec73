"""NUL, lone surrogates, huge integers and extreme dates in every path value, query
parameter and form field of every page: never a 500, always a page for people. The
routes come from the app's URL map (all but the API's, which tests/api/test_hostile_input.py
fuzzes from its document), so a new page is fuzzed as soon as it exists, and fails here
until it has a request it accepts."""
import functools
import json
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, settings
from urllib3 import encode_multipart_formdata

from audit_server import create_app
from audit_server.api import PREFIX
from audit_server.extensions import db
from audit_server.models import ApiToken, CorrectiveAction, User
from audit_server.schemas.reports import ReportQuerySchema
from audit_server.services import accounts, checklists, invitations
from audit_server.web.actions import CHANGE_FIELDS
from tests.helpers import PASSWORD, WALK_IN, Org, encoded, failing, given_hostile_values, new_version, submit
from tests.photo_samples import small_jpeg

# What the pages read from a query string (test_every_name_a_page_reads_is_fuzzed keeps it whole;
# the report pages read theirs through the API's schema of a report's query).
QUERY_NAMES = ("location", "page", "show", "next", "done", "region", "kind", "cleared", "role",
               *(field.data_key or name for name, field in ReportQuerySchema().fields.items()))
PACKAGE = Path(__file__).resolve().parents[2] / "audit_server"
PAGE_CODE = [*(PACKAGE / "web").rglob("*.py"), PACKAGE / "photo_files.py"]  # admin/ too
ARGUMENT = re.compile(r"<(?:[^<>]+:)?(\w+)>")


@dataclass
class PageRequest:
    """The parts of a request a page takes (before one of them is made hostile), and
    the role of the user who sends it."""

    path: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)
    form: dict = field(default_factory=dict)
    files: dict = field(default_factory=dict)
    role: str = "manager"


@dataclass
class World:
    """What the valid requests name; `version()` is the action's version now."""

    n1: int
    code: str
    audit_id: str
    action_id: int
    photo_id: str
    regional_id: int
    version: Callable[[], int]
    invitation: str = "no-such-token"  # a pending invitation's token
    walk_in_version: str = "v"  # the walk-in checklist's current version
    spare_invitation_id: int = 1  # another pending invitation's id (for revoking)
    token_id: Callable[[], int] = lambda: 1  # an API token of the manager's own (for revoking)


def valid_requests(world):
    """Requests each page accepts, every name it reads filled in: {(endpoint, method): [...]}."""
    action = {"action_id": world.action_id}
    return {
        ("static", "GET"): [PageRequest(path={"filename": "css/app.css"})],
        ("photo_files.serve", "GET"): [PageRequest(path={"photo_id": world.photo_id, "size": "thumb"})],
        ("web.home", "GET"): [PageRequest(query={"location": world.n1})],
        ("web.location_door", "GET"): [PageRequest(path={"code": world.code})],
        ("web.location", "GET"): [PageRequest(path={"code": world.code}, query={"page": 1})],
        ("web.audit", "GET"): [PageRequest(path={"audit_id": world.audit_id})],
        ("web.walk_in", "GET"): [PageRequest(query={"location": world.n1})],
        ("web.phone", "GET"): [PageRequest(query={"location": world.n1})],
        ("web.my_actions", "GET"): [PageRequest(query={"show": "all", "page": 1}),
                                    PageRequest(query={"show": "verify", "page": 1})],
        ("web.action", "GET"): [PageRequest(path=action)],
        ("web.change_action", "POST"): [
            PageRequest(path=action, form={"version": world.version(), "note": "Fregona pedida ☔"}),
            PageRequest(path=action, form={"version": world.version(), "status": "in_progress",
                                           "note": "Empezamos"}),
            PageRequest(path=action, form={"version": world.version(), "owner_id": world.regional_id,
                                           "reason": "Está de vacaciones"}),
        ],
        ("web.add_after_photo", "POST"): [PageRequest(
            path=action, form={"photo_id": str(uuid.uuid4()), "caption": "Seco ya"},
            files={"photo": small_jpeg()})],
        ("web.login", "GET"): [PageRequest(query={"next": "/actions"})],
        ("web.login", "POST"): [PageRequest(form={"email": "manager@example.com", "password": PASSWORD,
                                                  "next": "/actions"})],
        ("web.logout", "POST"): [PageRequest()],
        ("web.choose_language", "POST"): [PageRequest(form={"locale": "es", "next": "/actions"})],
        ("web.service_worker", "GET"): [PageRequest()],
        ("web.reports_overview", "GET"): [PageRequest(query={"period": "last_90_days"}, role="admin")],
        ("web.region_report", "GET"): [
            PageRequest(path={"code": "N"}, query={"period": "last_7_days", "checklist_id": WALK_IN,
                                                   "tz": "Europe/Madrid"}, role="regional"),
            PageRequest(path={"code": "N"}, query={"from": "2026-11-01", "to": "2026-11-30"}, role="regional"),
        ],
        ("web.account", "GET"): [PageRequest(query={"done": "password"})],
        # The same password again: the other requests still sign in with it.
        ("web.change_password", "POST"): [PageRequest(form={"current": PASSWORD, "new": PASSWORD,
                                                            "confirmation": PASSWORD})],
        ("web.sign_out_everywhere", "POST"): [PageRequest()],
        ("web.revoke_token", "POST"): [PageRequest(path={"token_id": world.token_id()})],
        ("admin.index", "GET"): [PageRequest(role="admin")],
        ("admin.activity", "GET"): [PageRequest(query={"page": 1, "kind": "user"}, role="admin")],
        ("admin.throttling", "GET"): [PageRequest(query={"cleared": "address:203.0.113.9"}, role="admin")],
        ("admin.throttling_clear", "POST"): [PageRequest(form={"key": "address:203.0.113.9"}, role="admin")],
        ("admin.regions", "GET"): [PageRequest(role="admin")],
        ("admin.regions", "POST"): [PageRequest(form={"code": "NE", "name": "Noreste 🌊"}, role="admin")],
        ("admin.regions_edit", "GET"): [PageRequest(path={"code": "N"}, role="admin")],
        ("admin.regions_edit", "POST"): [PageRequest(path={"code": "N"}, form={"name": "Norte ñ"}, role="admin")],
        ("admin.regions_qr_sheet", "GET"): [PageRequest(path={"code": "N"}, role="admin")],
        ("admin.locations", "GET"): [PageRequest(query={"region": "N"}, role="admin")],
        ("admin.locations_new", "GET"): [PageRequest(query={"region": "N"}, role="admin")],
        ("admin.locations_new", "POST"): [PageRequest(form={
            "code": "N9", "name": "Norte Nueve ☕", "region": "N", "address": "Calle 9",
            "phone": "+34 900 000 009", "timezone": "Europe/Madrid"}, role="admin")],
        ("admin.locations_edit", "GET"): [PageRequest(path={"code": world.code}, role="admin")],
        ("admin.locations_edit", "POST"): [PageRequest(path={"code": world.code}, form={
            "code": world.code, "name": "North One ☕", "region": "N", "address": "Street 1",
            "phone": "+34 900 000 001", "timezone": "Europe/Madrid"}, role="admin")],
        ("admin.locations_qr", "GET"): [PageRequest(path={"code": world.code}, role="admin")],
        ("admin.locations_poster", "GET"): [PageRequest(path={"code": world.code}, role="admin")],
        ("admin.cadence", "GET"): [PageRequest(role="admin")],
        ("admin.cadence", "POST"): [PageRequest(form={"region": "N", "checklist": WALK_IN, "days": 10},
                                                role="admin"),
                                    PageRequest(form={"region": "N", "checklist": WALK_IN, "reset": "1"},
                                                role="admin")],
        ("admin.users", "GET"): [PageRequest(query={"role": "manager"}, role="admin")],
        ("admin.users_invite", "POST"): [PageRequest(form={
            "email": "nueva@example.com", "name": "Nueva Señora 🌻", "role": "manager", "locations": "N1"},
            role="admin")],
        ("admin.users_edit", "GET"): [PageRequest(path={"user_id": world.regional_id}, role="admin")],
        ("admin.users_edit", "POST"): [PageRequest(path={"user_id": world.regional_id}, form={
            "name": "Regional ñ", "role": "regional", "regions": "N"}, role="admin")],
        ("admin.users_active", "POST"): [PageRequest(path={"user_id": world.regional_id}, form={"active": "1"},
                                                     role="admin")],
        ("admin.users_reset", "POST"): [PageRequest(path={"user_id": world.regional_id}, role="admin")],
        ("admin.revoke_invitation", "POST"): [PageRequest(path={"invitation_id": world.spare_invitation_id}, role="admin")],
        ("admin.checklists", "GET"): [PageRequest(role="admin")],
        ("admin.upload_checklist", "POST"): [PageRequest(files={"file": (
            f"{WALK_IN}.json", json.dumps(new_version(WALK_IN)).encode(), "application/json")}, role="admin")],
        ("admin.checklists_preview", "GET"): [PageRequest(
            path={"checklist_id": WALK_IN, "version": world.walk_in_version}, role="admin")],
        ("web.invitation", "GET"): [PageRequest(path={"token": world.invitation}, role="manager")],
        ("web.invitation", "POST"): [PageRequest(path={"token": world.invitation}, form={
            "name": "Invitada ñ", "password": "Ñandú-pan-de-2026", "password_again": "Ñandú-pan-de-2026"})],
        ("web.failed_item", "GET"): [PageRequest(
            path={"code": "N", "checklist_id": WALK_IN, "item_id": "floor_clean"},
            query={"from": "2026-11-01", "to": "2026-11-30", "page": 1}, role="regional")],
    }


@functools.cache
def page_routes():
    """(endpoint, method, rule) for every route of the app's URL map outside the API."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted((rule.endpoint, method, rule.rule) for rule in app.url_map.iter_rules()
                  if not rule.rule.startswith(PREFIX + "/")
                  for method in rule.methods - {"HEAD", "OPTIONS"})


def targets():
    """(endpoint, method, rule, which of its requests, where, name) for every value a page
    takes: its path values and the query names pages read, and each request's form fields."""
    shapes = valid_requests(World(1, "N1", str(uuid.uuid4()), 1, str(uuid.uuid4()), 1, version=lambda: 1))
    found = []
    for endpoint, method, rule in page_routes():
        found += [(endpoint, method, rule, 0, "path", name) for name in ARGUMENT.findall(rule)]
        found += [(endpoint, method, rule, 0, "query", name) for name in QUERY_NAMES]
        for index, request in enumerate(shapes.get((endpoint, method), [])):
            found += [(endpoint, method, rule, index, "form", name) for name in request.form]
    return found


def send(web, method, rule, request):
    path = ARGUMENT.sub(lambda m: quote(encoded(request.path[m.group(1)]), safe=""), rule)
    if request.query:
        path += "?" + urlencode({name: encoded(value) for name, value in request.query.items()})
    if method == "GET":
        return web.get(path)
    form = {name: encoded(value) for name, value in request.form.items()} | {
        "csrf_token": web.csrf_token()}
    if request.files:
        parts = list(form.items()) + [(name, data if isinstance(data, tuple) else (f"{name}.jpg", data, "image/jpeg"))
                                      for name, data in request.files.items()]
        body, content_type = encode_multipart_formdata(parts)
    else:
        body, content_type = urlencode(form), "application/x-www-form-urlencoded"
    return web.open(method, path, data=body, content_type=content_type)


def make_world(client, organisation):
    """An audit of N1 by its manager in which the floor was dirty (so an action is open),
    with a photo."""
    audit = submit(client, organisation, answers=failing("floor_clean"))
    body, content_type = encode_multipart_formdata(
        [("id", str(uuid.uuid4())), ("item_id", "floor_clean"), ("photo", ("floor.jpg", small_jpeg(), "image/jpeg"))])
    photo = client.post(f"/api/v1/audits/{audit['id']}/photos", data=body, content_type=content_type,
                        headers=organisation.headers("manager"))
    assert photo.status_code == 201, photo.get_json()
    action_id = audit["actions"][0]["id"]
    admin = db.session.get(User, organisation.ids["admin"])
    token, _ = invitations.invite(admin, "invitada@example.com", "manager", (), ("N1",), "Invitada")
    manager_id = organisation.ids["manager"]

    def token_id():
        """One of the manager's API tokens (a new one when a password change ended them)."""
        mine = sa.select(sa.func.max(ApiToken.id)).where(ApiToken.user_id == manager_id)
        if db.session.scalar(mine) is None:
            accounts.issue_token(db.session.get(User, manager_id), 1, name="fuzz")
        return db.session.scalar(mine)

    token_id()
    _, spare = invitations.invite(admin, "otra@example.com", "regional", ("N",), (), "Otra")
    return World(organisation.locations["N1"], "N1", audit["id"], action_id, photo.get_json()["id"],
                 organisation.ids["regional"],
                 version=lambda: db.session.get(CorrectiveAction, action_id).version,
                 invitation=token, walk_in_version=checklists.current_checklist(WALK_IN).version,
                 spare_invitation_id=spare.id, token_id=token_id)


def build_world(app):
    """The small organisation and its World: (world, the users' emails)."""
    organisation = Org(app)
    return make_world(app.test_client(), organisation), organisation.emails


@pytest.fixture
def world(client, web, organisation):
    """A World of the test's own (its requests may change it); the manager is signed in."""
    world = make_world(client, organisation)
    web.login(organisation.emails["manager"])
    return world


@pytest.fixture
def read_only_world(app, kept_data):
    """The World the tests of read-only pages share (built once for all that follow one
    another); the test runs in an app context."""
    with app.app_context():
        yield kept_data(build_world)


def test_every_page_route_has_a_request_it_accepts(web, organisation, world):
    """So that a hostile value in one field is judged on its own, the rest being valid."""
    requests = valid_requests(world)
    assert {(endpoint, method) for endpoint, method, _ in page_routes()} == set(requests)
    for endpoint, method, rule in page_routes():
        for index, request in enumerate(requests[endpoint, method]):
            web.login(organisation.emails[request.role])
            db.session.rollback()  # the action as the requests left it
            response = send(web, method, rule, valid_requests(world)[endpoint, method][index])
            assert response.status_code < 400, (endpoint, method, index, response.status_code)


def test_every_name_a_page_reads_is_fuzzed():
    """The query names and form fields the pages' code reads are all made hostile above."""
    code = "\n".join(path.read_text() for path in PAGE_CODE)
    query = set(re.findall(r'request\.(?:args|values)\.get\("(\w+)"', code))
    form = set(re.findall(r'request\.(?:form|values)\.get\("(\w+)"', code)) | set(CHANGE_FIELDS)
    fuzzed = {where: {name for *_, w, name in targets() if w == where} for where in ("query", "form")}
    assert query and query <= fuzzed["query"]
    assert form and form <= fuzzed["form"]


def test_every_target_is_fuzzed():
    """The read-only pages (GET) and the forms (every other method) share the targets out."""
    assert sorted(READ_TARGETS + WRITE_TARGETS) == sorted(targets())
    assert READ_TARGETS and all(target[1] == "GET" for target in READ_TARGETS)


def check_hostile_value(web, world, emails, target, value, signed_in="manager"):
    endpoint, method, rule, index, where, name = target
    request = valid_requests(world)[endpoint, method][index]
    if request.role != signed_in:
        web.login(emails[request.role])
    getattr(request, where)[name] = value
    response = send(web, method, rule, request)
    assert response.status_code < 500, response.get_data(as_text=True)[:2000]
    if response.status_code >= 400:
        assert response.mimetype == "text/html"  # a page for people, never the API's JSON


READ_TARGETS = [target for target in targets() if target[1] == "GET"]
WRITE_TARGETS = [target for target in targets() if target[1] != "GET"]
HOSTILE_SETTINGS = settings(max_examples=5, deadline=None, database=None,
                            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def target_id(target):
    return f"{target[1]} {target[2]} #{target[3]} {target[4]} {target[5]}"


@pytest.fixture
def reader(web, read_only_world, target):
    """A new session of the page's user, signed in."""
    world, emails = read_only_world
    web.login(emails[valid_requests(world)[target[0], target[1]][target[3]].role])
    return web


@pytest.mark.read_only
@pytest.mark.parametrize("target", READ_TARGETS, ids=target_id)
@given_hostile_values
@HOSTILE_SETTINGS
def test_no_hostile_value_in_a_page_gives_a_500(reader, read_only_world, target, value):
    world, emails = read_only_world
    role = valid_requests(world)[target[0], target[1]][target[3]].role
    check_hostile_value(reader, world, emails, target, value, signed_in=role)


@pytest.mark.parametrize("target", WRITE_TARGETS, ids=target_id)
@given_hostile_values
@HOSTILE_SETTINGS
def test_no_hostile_value_in_a_form_gives_a_500(web, organisation, world, target, value):
    check_hostile_value(web, world, organisation.emails, target, value)
