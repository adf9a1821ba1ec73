"""Signing in and out of the pages, and the session cookie."""


def test_pages_send_a_signed_out_person_to_the_login_page(client, organisation):
    response = client.get("/audit/walk-in?location=1")
    assert response.status_code == 302
    assert response.location.startswith("/login?next=")


def test_the_api_still_answers_401_json(client, organisation):
    response = client.get("/api/v1/locations")
    assert response.status_code == 401
    assert response.json["error"]["code"] == "unauthorized"


def test_login_then_home_then_logout(web, organisation):
    response = web.login(organisation.emails["manager"])
    assert response.status_code == 302 and response.location == "/"
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    home = web.get("/")
    assert home.status_code == 200
    assert "North One" in home.get_data(as_text=True)
    response = web.post("/logout")
    assert response.status_code == 302 and response.location == "/login"
    assert web.get("/").status_code == 302


def test_login_returns_to_the_page_asked_for_but_never_to_another_site(web, organisation):
    email = organisation.emails["manager"]
    response = web.post("/login", {"email": email, "password": organisation.PASSWORD,
                                   "next": "/audit/phone"})
    assert response.location == "/audit/phone"
    web.post("/logout")
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        response = web.post("/login", {"email": email, "password": organisation.PASSWORD,
                                       "next": target})
        assert response.location == "/"
        web.post("/logout")


def test_wrong_password_is_said_plainly(web, organisation):
    response = web.login(organisation.emails["manager"], "not the password")
    assert response.status_code == 401
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert web.get("/").status_code == 302


def test_bad_login_input_is_never_a_500(web, organisation):
    for data in ({}, {"email": ""}, {"email": "x" * 100000, "password": "y" * 100000},
                 {"email": "\x00", "password": "\u00ff\u0000"}, {"email": ["a", "b"]}):
        assert web.post("/login", data).status_code in (200, 401)


def test_an_inactive_person_cannot_sign_in(web, organisation):
    from audit_server.extensions import db
    organisation.users["manager"].active = False
    db.session.commit()
    assert web.login(organisation.emails["manager"]).status_code == 401


def test_session_cookie_is_secure_unless_configured_otherwise():
    from audit_server.config import Config
    assert Config.SESSION_COOKIE_SECURE is True
    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_the_door_url_survives_signing_in(web, organisation):
    response = web.get("/l/N1")
    assert response.status_code == 302 and response.location == "/login?next=%2Fl%2FN1"
    response = web.post("/login", {"email": organisation.emails["manager"],
                                   "password": organisation.PASSWORD, "next": "/l/N1"})
    assert response.location == "/l/N1"


def test_a_nul_in_the_email_is_refused_by_the_api_naming_the_field(client, organisation):
    response = client.post("/api/v1/auth/token", json={"email": "a\x00@b.c", "password": "x"})
    assert response.status_code == 422
    assert list(response.get_json()["error"]["fields"]) == ["email"]
