"""schemathesis against the app's own OpenAPI document: every operation with the
default checks (all of them), bounded examples, on this run's database.

The app is called in-process (WSGI), each request in an app context of its own as
under a server. In-process, an over-long URL reaches the app (422) instead of
gunicorn, which refuses a request line beyond 4094 bytes with an HTML 414 of its
own: every documented query parameter is bounded so that valid requests fit."""
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.config import ChecksConfig

from tests.helpers import document_operations, served_document

# Answers a schema cannot foretell, so valid-looking data may still be refused:
# an audit names a checklist, items and a location that must exist and be visible
# to the user (422 naming them); a change must be legal for the action as it is
# (422); a photo's bytes must be an image (415, or 422 when damaged); a report's query
# must name a checklist that exists, and either a period or from and to, from no later
# than to and at most 400 days apart, which a document cannot say (422); an export's,
# besides, a region and a location the user sees. Every other
# operation, and every other check, keeps schemathesis's defaults.
STORED_DATA_DECIDES = {
    "/api/v1/audits": ("POST", ["2xx", "401", "403", "404", "409", "422"]),
    "/api/v1/audits/{audit_id}/photos": ("POST", ["2xx", "401", "403", "404", "409", "415", "422"]),
    "/api/v1/actions/{action_id}": ("PATCH", ["2xx", "401", "403", "404", "409", "422"]),
    "/api/v1/actions/{action_id}/photos": ("POST", ["2xx", "401", "403", "404", "409", "415", "422"]),
    "/api/v1/reports": ("GET", ["2xx", "401", "404", "422"]),
    "/api/v1/reports/regions/{code}": ("GET", ["2xx", "401", "404", "422"]),
    "/api/v1/reports/regions/{code}/items/{checklist_id}/{item_id}": (
        "GET", ["2xx", "401", "404", "422"]),
    # An export's region or location must be one the user sees (422 otherwise).
    **{f"/api/v1/exports/{name}": ("GET", ["2xx", "401", "422"])
       for name in ("audits.csv", "audits.xlsx", "actions.csv", "actions.xlsx")},
}
# A multipart body with more parts than a photo form has (request_bodies.MULTIPART_MAX_PARTS)
# or a field beside the photo over FIELD_MAX_BYTES is refused by Werkzeug's form parser,
# before any schema reads it, with 413: the body is too large in parts. That is this
# server's answer to such a body, documented for every write, in the README and in the
# phone's outbox (refused for good). schemathesis's negative data has that many parts in
# some runs, not in others (it draws at random), and its negative_data_rejection check
# does not expect 413 by default: naming it for the multipart operations makes the result
# the same whatever a run draws.
MULTIPART_REJECTIONS = [*ChecksConfig.from_dict({}).negative_data_rejection.expected_statuses, "413"]


def checks_of(method, path, operation):
    """The checks of an operation that differ from schemathesis's defaults (see above)."""
    checks = {}
    if STORED_DATA_DECIDES.get(path, (None,))[0] == method:
        checks["positive_data_acceptance"] = {"expected-statuses": STORED_DATA_DECIDES[path][1]}
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        checks["negative_data_rejection"] = {"expected-statuses": MULTIPART_REJECTIONS}
    return checks


CONFIG = schemathesis.Config.from_dict({
    # The test sends a real bearer token (below): schemathesis is not to make one up.
    "generation": {"max-examples": 25, "database": "none", "with-security-parameters": False},
    "operations": [
        {"include-path": path, "include-method": method, "checks": checks}
        for method, path, operation in document_operations(served_document())
        if (checks := checks_of(method, path, operation))
    ],
})


class OwnAppContext:
    """The test's app as a server runs it: every request in an app context of its own
    (the test holds one, whose `g` would otherwise remember who signed in). The
    schema is loaded when the tests are collected, before there is an app: each
    test names it."""

    app = None

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return self.app(environ, start_response)


SERVER = OwnAppContext()
schema = schemathesis.openapi.from_dict(served_document(), config=CONFIG)
schema.app = SERVER


@schema.parametrize()
# Two of hypothesis's health checks do not apply here: function_scoped_fixture, because
# every example of an operation is meant to share the test's organisation (its users and
# tokens; the database is emptied after the test, not between examples); and too_slow,
# because it times how long examples take to make, and a test here asserts no timing
# (the suite shares its machine). Every other health check stays on.
@settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                HealthCheck.too_slow])
def test_the_api_keeps_its_document(case, app, organisation):
    SERVER.app = app
    # In-process no HTTP client undoes the compression of large answers: ask for none.
    case.call_and_validate(headers=organisation.headers("admin") | {"Accept-Encoding": "identity"})
