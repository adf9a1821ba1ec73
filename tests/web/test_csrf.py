"""CSRF: forms and the pages' JSON calls need the token; bearer-token API clients do not."""
from tests.helpers import audit_body


def test_a_form_without_the_token_is_refused(client, organisation):
    response = client.post("/login", data={"email": organisation.emails["manager"],
                                           "password": organisation.PASSWORD})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_logout_without_the_token_is_refused(web, organisation):
    web.login(organisation.emails["manager"])
    assert web.open("POST", "/logout").status_code == 400
    assert web.get("/").status_code == 200


def test_a_session_json_post_needs_the_header(web, organisation):
    web.login(organisation.emails["manager"])
    body = audit_body(organisation.locations["N1"])
    response = web.open("POST", "/api/v1/audits", json=body)
    assert response.status_code == 400
    assert response.json["error"]["code"] == "csrf_failed"
    response = web.open("POST", "/api/v1/audits", json=body,
                               headers={"X-CSRFToken": web.csrf_token("/")})
    assert response.status_code == 201
    assert response.json["score"]["percent"] == 100.0


def test_bearer_clients_are_exempt(client, organisation):
    body = audit_body(organisation.locations["N1"])
    response = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert response.status_code == 201


def test_the_token_exchange_needs_no_csrf_token(client, organisation):
    response = client.post("/api/v1/auth/token", json={
        "email": organisation.emails["manager"], "password": organisation.PASSWORD})
    assert response.status_code == 201


def test_a_made_up_bearer_token_does_not_ride_on_the_session(web, organisation):
    """No CSRF check for bearer requests is safe only if they are judged by the token alone."""
    web.login(organisation.emails["manager"])
    body = audit_body(organisation.locations["N1"])
    response = web.open("POST", "/api/v1/audits", json=body,
                        headers={"Authorization": "Bearer made-up"})
    assert response.status_code == 401
    assert web.get("/").status_code == 200  # the session itself still works


def test_a_bearer_request_neither_reads_nor_writes_the_session_cookie(web, organisation):
    """A page or an error rendered for a bearer request must not sign anybody in or out."""
    web.login(organisation.emails["manager"])
    bearer = organisation.headers("regional")
    for method, path in (("GET", "/api/v1/audits"), ("GET", "/photos/no-such-photo/thumb"),
                         ("GET", "/")):
        response = web.open(method, path, headers=bearer)
        assert "Set-Cookie" not in response.headers, path
    # The regional manager's token saw the regional scope, not the signed-in manager's.
    assert len(web.open("GET", "/api/v1/locations", headers=bearer).json) == 2
    assert web.get("/").status_code == 200  # and the manager's session is as it was
