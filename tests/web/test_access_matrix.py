"""The access matrix: EVERY route of the app's URL map (each method), called by each role
(nobody, the manager of N1, the manager of S1, the regional manager of N, an admin) on
objects in and out of the caller's scope.

  nobody        -> 401 (API under /api/, photo files) or a redirect to /login (pages), except PUBLIC
  out of scope  -> 404, and an unsafe call (POST, PATCH, PUT, DELETE) changes no row
  in scope      -> neither 401 nor 404 nor 5xx
  admin.*       -> 404 for everyone but admins (anonymous included: redirect or 404)

How a route is called: its URL values are filled from its arguments' names (FILL: one line
for each name, giving the value in the caller's scope or out of it; `code` is a region's
after /regions/, else a location's), and an unsafe call sends BODY[endpoint], by default an
empty form (pages: with the session's CSRF token) or empty JSON (/api/: with a bearer token).

Adding a route:
- its arguments all in FILL (code, region_code, location_code, location_id, audit_id,
  action_id, photo_id, user_id, checklist_id, item_id, size): nothing to do;
- a new argument name: one line in FILL, e.g. `"version": same(1)` for a value that does
  not depend on scope, `"token_id": by_location(lambda w: w.tokens)` for one object at N1
  and one at S1 (make them in World.__init__), or `in_scope(lambda w, s: ...)` for what only
  the caller's own scope has (its own API token, its own sessions);
- a path no argument name can build: one line in PATHS;
- an unsafe route whose empty body is refused before the object is looked up (422 where
  the matrix wants 404), or that needs a real body to do its work: one line in BODY;
- public (no sign-in: a door or invitation page): add it to PUBLIC; for some roles only: ONLY;
  one that ends the caller's session (sign-out, revoking all sessions): LAST.
A route the matrix cannot call fails test_every_route_is_callable; a leak fails test_access_matrix.
"""
import io
import uuid
from dataclasses import dataclass

import pytest
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import Location, User
from audit_server.services import accounts, checklists, invitations
from tests.helpers import WALK_IN, audit_body, failing, submit
from tests.photo_samples import small_jpeg

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
ROLES = (None, "manager", "manager_s", "regional", "admin")

# Routes anyone may call without signing in (static files are left out of the matrix).
PUBLIC = {"web.login", "auth.token", "api-docs.openapi_json", "web.service_worker",
          "web.choose_language", "web.invitation"}
EXCLUDED = {"static"}
# Not pages: what they refuse to nobody is a 401, as the API does (an image has no login form).
FILES = ("/photos/",)


@dataclass(frozen=True)
class Scope:
    """What a role may and may not see: a location (by code) and a region (by code) in its
    scope and out of it (None: there is none)."""
    role: str
    location: str | None
    region: str | None
    other_location: str | None
    other_region: str | None


SCOPES = {
    None: Scope(None, "N1", "N", None, None),  # nobody: everything is refused anyway
    "manager": Scope("manager", "N1", None, "S1", "S"),
    "manager_s": Scope("manager_s", "S1", None, "N1", "N"),
    "regional": Scope("regional", "N1", "N", "S1", "S"),
    "admin": Scope("admin", "N1", "N", None, None),
}


def location_of(scope, inside):
    return scope.location if inside else scope.other_location


def region_of(scope, inside):
    return scope.region if inside else scope.other_region


def by_location(table):
    """A filler giving table[location code] for the location in or out of scope."""
    return lambda w, s, inside, rule: (lambda code: code and table(w)[code])(location_of(s, inside))


def same(value):
    """A filler giving `value` whatever the scope."""
    return lambda w, s, inside, rule: value


def in_scope(value_of):
    """A filler for what only the caller's own scope has: value_of(world, scope), no value
    out of scope (nobody tries the manager of N1's)."""
    return lambda w, s, inside, rule: value_of(w, s if s.role else SCOPES["manager"]) if inside else None


def code_filler(w, s, inside, rule):
    before = rule.rule.split("<")[0].rstrip("/").rsplit("/", 1)[-1]
    return region_of(s, inside) if before == "regions" else location_of(s, inside)


# argument name: (world, scope, in scope?, rule) -> its value, or None if there is none
FILL = {
    "code": code_filler,
    "region_code": lambda w, s, inside, rule: region_of(s, inside),
    "location_code": lambda w, s, inside, rule: location_of(s, inside),
    "location_id": by_location(lambda w: w.organisation.locations),
    "audit_id": by_location(lambda w: w.audits),
    "action_id": by_location(lambda w: w.actions),
    "photo_id": by_location(lambda w: w.photos),
    "checklist_id": same(WALK_IN),
    "item_id": same("floor_clean"),
    "size": same("thumb"),
    "user_id": by_location(lambda w: w.people),  # the manager of that location
    # one's own API token; out of scope, someone else's (an admin may revoke anyone's)
    "token_id": lambda w, s, inside, rule: w.tokens[is_api(rule), s.role or "manager"] if inside else (
        None if s.role in (None, "admin") else w.tokens[is_api(rule), "manager_s" if s.role == "manager" else "manager"]),
    "version": lambda w, s, inside, rule: w.walk_in_version,
    "invitation_id": lambda w, s, inside, rule: w.invitation_id if inside or s.other_location else None,
    "token": lambda w, s, inside, rule: w.invitation_token if inside else None,  # an invitation's (public)
}
# endpoint: (world, scope, in scope?) -> the whole path, where FILL cannot build it
PATHS = {}


def photo_form(field="id"):
    return {field: str(uuid.uuid4()), "photo": (io.BytesIO(small_jpeg()), "p.jpg")}


# endpoint: (world, scope, in scope?) -> the request's keyword arguments for an unsafe call
BODY = {
    "web.login": lambda w, s, inside: {"data": {"email": "nobody@example.com", "password": "x"}},
    "web.choose_language": lambda w, s, inside: {"data": {"locale": "en", "next": "/"}},
    "web.change_action": lambda w, s, inside: {"data": {"note": "Matrix note", "version": w.version}},
    "web.add_after_photo": lambda w, s, inside: {"data": photo_form("photo_id"),
                                                 "content_type": "multipart/form-data"},
    "admin.cadence": lambda w, s, inside: {"data": {"region": "N", "checklist": WALK_IN, "days": "10"}},
    "auth.token": lambda w, s, inside: {"json": {"email": "nobody@example.com", "password": "x"}},
    "actions.change_action": lambda w, s, inside: {"json": {"note": "Matrix note", "version": w.version}},
    "action_photos.upload_after_photo": lambda w, s, inside: {"data": photo_form(),
                                                              "content_type": "multipart/form-data"},
    "audit_photos.upload": lambda w, s, inside: {"data": photo_form(),
                                                 "content_type": "multipart/form-data"},
    # the object is in the body: an audit of a location in or out of scope
    "audits.submit": lambda w, s, inside: location_of(s, inside) and {
        "json": audit_body(w.organisation.locations[location_of(s, inside)])},
}
# endpoints whose scope is in the body, not the URL (they get out-of-scope calls too), and
# what they answer then: what they answer for an object that does not exist
SCOPED_BY_BODY = {"audits.submit": 422}  # "Unknown location."
# endpoints for some roles only (and admin.*, for admins only): 404 to the others
ONLY = {"reports.organisation_report": {"regional", "admin"},
        "web.reports_overview": {"regional", "admin"}}
# called last: they end the session
LAST = ("auth.revoke_this_token", "web.logout", "web.sign_out_everywhere")  # in this order


def routes(app):
    """(rule, method) for every route of the matrix."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.rule, r.endpoint)):
        if rule.endpoint in EXCLUDED:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def is_api(rule):
    return rule.rule.startswith("/api/")


def scoped(rule):
    if rule.endpoint in PUBLIC:  # its URL is its proof (an invitation's token)
        return False
    return bool(rule.arguments - {"checklist_id", "item_id", "size", "version"}) or rule.endpoint in SCOPED_BY_BODY


def path_for(world, rule, scope, inside):
    """The path of `rule` for a caller of `scope` (None: no such object for it)."""
    if rule.endpoint in PATHS:
        return PATHS[rule.endpoint](world, scope, inside)
    values = {}
    for name in rule.arguments:
        value = FILL[name](world, scope, inside, rule)
        if value is None:
            return None
        values[name] = value
    if not values and not inside and rule.endpoint not in SCOPED_BY_BODY:
        return None
    _, path = rule.build(values, append_unknown=False)
    return path


def body_for(world, rule, method, scope, inside):
    if method not in UNSAFE:
        return {}
    if rule.endpoint in BODY:
        return BODY[rule.endpoint](world, scope, inside)
    return {"json": {}} if is_api(rule) else {"data": {}}


def uncallable(app):
    """What the matrix does not know how to call."""
    unknown = []
    for rule, method in routes(app):
        if rule.endpoint in PATHS:
            continue
        missing = rule.arguments - FILL.keys()
        if missing:
            unknown.append(f"{method} {rule.rule} ({rule.endpoint}): no FILL for {sorted(missing)}")
    return unknown


def test_every_route_is_callable(app):
    unknown = uncallable(app)
    assert not unknown, "routes the matrix cannot call (see the top of this file):\n" + "\n".join(unknown)
    stale = (PATHS.keys() | BODY.keys() | PUBLIC | ONLY.keys() | set(LAST) | SCOPED_BY_BODY.keys()) - {rule.endpoint for rule, _ in routes(app)}
    assert not stale, f"no longer routes: {sorted(stale)}"


class World:
    """The organisation, a failed walk-in at N1 and at S1, each with a photo, and their actions."""

    def __init__(self, client, organisation):
        self.organisation = organisation
        self.audits, self.actions, self.photos = {}, {}, {}
        self.names = {loc.code: loc.name for loc in db.session.scalars(sa.select(Location))}
        self.people = {"N1": organisation.ids["manager"], "S1": organisation.ids["manager_s"]}
        for code, role in (("N1", "manager"), ("S1", "manager_s")):
            audit = submit(client, organisation, role, code, answers=failing("floor_clean"))
            self.audits[code] = uuid.UUID(audit["id"])
            self.actions[code] = audit["actions"][0]["id"]
            self.version = 1  # every new action's
            r = client.post(f"/api/v1/audits/{audit['id']}/photos", data=photo_form(),
                            content_type="multipart/form-data", headers=organisation.headers(role))
            assert r.status_code == 201, r.get_json()
            self.photos[code] = uuid.UUID(r.get_json()["id"])
        # a token of each person's own besides the one the matrix calls with (it may be revoked)
        # (one for the API's route, one for the page's)
        self.tokens = {(api, role): self._token(organisation.ids[role])
                       for role in organisation.ids for api in (True, False)}
        self.walk_in_version = checklists.current_checklist(WALK_IN).version
        admin = db.session.get(User, organisation.ids["admin"])
        self.invitation_token, row = invitations.invite(admin, "invited@example.com", "manager", (), ("N1",))
        self.invitation_id = row.id

    @staticmethod
    def _token(user_id):
        accounts.issue_token(db.session.get(User, user_id), 1, name="matrix")
        return db.session.scalar(sa.select(sa.func.max(accounts.ApiToken.id)).where(
            accounts.ApiToken.user_id == user_id))


def snapshot(app):
    """Every row of every table, to show that a refused call changed nothing."""
    with app.app_context():
        db.session.remove()
        with db.engine.connect() as conn:
            return {table.name: sorted(map(repr, conn.execute(sa.select(table)).all()))
                    for table in db.metadata.sorted_tables}


def changed_tables(before, after):
    return sorted(name for name in before if before[name] != after[name])


class Caller:
    """One role's way in: a bearer token for /api/, a signed-in browser session elsewhere."""

    def __init__(self, app, web_on, organisation, role):
        self.role = role
        self.web = web_on(app)
        self.headers = organisation.headers(role) if role else {}
        if role:
            assert self.web.login(organisation.emails[role]).status_code == 302

    def call(self, rule, method, path, body):
        if is_api(rule):
            return self.web.open(method, path, headers=self.headers, **body)
        if method in UNSAFE:
            body = dict(body)
            body["data"] = dict(body.get("data") or {}, csrf_token=self.web.csrf_token())
        return self.web.open(method, path, **body)


def looks_like_login_redirect(response):
    return response.status_code in (302, 303) and "/login" in response.headers.get("Location", "")


def leaks(response, path, world, scope):
    """Text of the other scope's objects in a refusal."""
    text = response.get_data(as_text=True)
    other = scope.other_location
    if not other:
        return []
    secrets = [str(world.audits[other]), str(world.photos[other]), world.names[other]]
    return [s for s in secrets if s in text and s not in path]  # the caller's own URL aside


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
def test_access_matrix(app, client, web_on, organisation, role):
    world = World(client, organisation)
    scope = SCOPES[role]
    caller = Caller(app, web_on, organisation, role)
    problems, called = [], set()
    plan = sorted(routes(app), key=lambda rm: (rm[1] in UNSAFE, (LAST.index(rm[0].endpoint) + 1) if rm[0].endpoint in LAST else 0))
    for inside in (False, True):  # out of scope first: the in-scope unsafe calls change things
        for rule, method in plan:
            if not inside and not scoped(rule):
                continue
            if role is None and not inside:
                continue
            path = path_for(world, rule, scope, inside)
            if path is None:
                continue
            body = body_for(world, rule, method, scope, inside)
            if body is None:
                continue
            allowed = role in ONLY.get(rule.endpoint, {"admin"} if rule.endpoint.startswith("admin.") else ROLES)
            refused = role is None or not inside or not allowed
            before = snapshot(app) if (method in UNSAFE and refused and rule.endpoint not in PUBLIC) else None
            response = caller.call(rule, method, path, body)
            called.add((rule.endpoint, method, inside))
            status = response.status_code
            where = f"{role or 'anonymous'} {method} {path} ({rule.endpoint}, {'in' if inside else 'out of'} scope)"
            if status >= 500:
                problems.append(f"{where}: {status}")
            elif role is None:
                if rule.endpoint in PUBLIC:
                    continue
                if is_api(rule) or rule.rule.startswith(FILES):
                    ok = status == 401
                else:
                    ok = looks_like_login_redirect(response) or (
                        rule.endpoint.startswith("admin.") and status == 404)
                if not ok:
                    problems.append(f"{where}: {status}, not refused to anonymous")
            elif not allowed:
                if status != 404:
                    problems.append(f"{where}: {status}, not for this role: expected 404")
            elif not inside:
                expected = SCOPED_BY_BODY.get(rule.endpoint, 404)
                if status != expected:
                    problems.append(f"{where}: {status}, expected {expected}")
                elif leaks(response, path, world, scope):
                    problems.append(f"{where}: 404 showing {leaks(response, path, world, scope)}")
            elif status in (401, 403, 404) and rule.endpoint not in PUBLIC:
                problems.append(f"{where}: {status} in scope")
            if before is not None and (changed := changed_tables(before, snapshot(app))):
                problems.append(f"{where}: refused, yet changed {changed}")
    assert not problems, "\n".join(problems)
    if role in (None, "admin"):  # nobody is refused everything, an admin sees everything
        missed = {(rule.endpoint, method) for rule, method in routes(app)} - {
            (endpoint, method) for endpoint, method, inside in called if inside}
        assert not missed, f"routes the matrix did not call: {sorted(missed)}"
    if role in ("manager", "manager_s", "regional"):  # each has objects out of its scope
        refused = {(endpoint, method) for endpoint, method, inside in called if not inside}
        missed = {(rule.endpoint, method) for rule, method in routes(app) if scoped(rule)} - refused
        assert not missed, f"routes the matrix did not call out of scope: {sorted(missed)}"


def test_a_new_route_with_an_unknown_argument_is_refused(make_app):
    other = make_app()
    other.add_url_rule("/api/v1/gadgets/<int:gadget_id>", "gadgets.get_gadget", lambda gadget_id: "")
    assert uncallable(other) == [
        "GET /api/v1/gadgets/<int:gadget_id> (gadgets.get_gadget): no FILL for ['gadget_id']"]


def test_the_world_has_objects_in_and_out_of_each_scope(client, organisation):
    """What the matrix stands on: an audit, action and photo at N1 and at S1, and the
    manager of N1 refused the S1 audit the manager of S1 is given."""
    world = World(client, organisation)
    assert set(world.audits) == set(world.actions) == set(world.photos) == set(world.people) == {"N1", "S1"}
    path = f"/api/v1/audits/{world.audits['S1']}"
    assert client.get(path, headers=organisation.headers("manager")).status_code == 404
    assert client.get(path, headers=organisation.headers("manager_s")).status_code == 200
