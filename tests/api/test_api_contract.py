"""schemathesis against the app's own OpenAPI document: every operation with the
default checks (all of them), bounded examples, on this run's database.

The app is called in-process (WSGI), each request in an app context of its own as
under a server. In-process, an over-long URL reaches the app (422) instead of
gunicorn, which refuses a request line beyond 4094 bytes with an HTML 414 of its
own: every documented query parameter is bounded so that valid requests fit."""
import schemathesis
from hypothesis import HealthCheck, settings

from tests.helpers import served_document

# Answers a schema cannot foretell, so valid-looking data may still be refused:
# an audit names a checklist, items and a location that must exist and be visible
# to the user (422 naming them); a change must be legal for the action as it is
# (422); a photo's bytes must be an image (415, or 422 when damaged). Every other
# operation, and every other check, keeps schemathesis's defaults.
STORED_DATA_DECIDES = {
    "/api/v1/audits": ("POST", ["2xx", "401", "403", "404", "409", "422"]),
    "/api/v1/audits/{audit_id}/photos": ("POST", ["2xx", "401", "403", "404", "409", "415", "422"]),
    "/api/v1/actions/{action_id}": ("PATCH", ["2xx", "401", "403", "404", "409", "422"]),
    "/api/v1/actions/{action_id}/photos": ("POST", ["2xx", "401", "403", "404", "409", "415", "422"]),
}
CONFIG = schemathesis.Config.from_dict({
    # The test sends a real bearer token (below): schemathesis is not to make one up.
    "generation": {"max-examples": 25, "database": "none", "with-security-parameters": False},
    "operations": [
        {"include-path": path, "include-method": method,
         "checks": {"positive_data_acceptance": {"expected-statuses": statuses}}}
        for path, (method, statuses) in STORED_DATA_DECIDES.items()
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
@settings(deadline=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_its_document(case, app, organisation):
    SERVER.app = app
    # In-process no HTTP client undoes the compression of large answers: ask for none.
    case.call_and_validate(headers=organisation.headers("admin") | {"Accept-Encoding": "identity"})
