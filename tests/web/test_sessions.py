"""Revocable sessions (issue 15): a cookie counts only while its server-side session exists;
sign-out, "sign out everywhere", a new password and deactivation end sessions and tokens."""
import re

from audit_server.extensions import db
from audit_server.models import ApiToken, User, UserSession
from audit_server.services import accounts
from tests.conftest import WebSession
from tests.helpers import PASSWORD

TOKEN = "/api/v1/auth/token"
NEW_PASSWORD = "un árbol verde 🌳 en Soria"


def copy_of(app, web):
    """Another browser holding a copy of `web`'s session cookie."""
    other = app.test_client()
    other.set_cookie("session", web.client.get_cookie("session").value)
    return WebSession(other)


def token_for(client, email="manager@example.com", password=PASSWORD):
    answer = client.post(TOKEN, json={"email": email, "password": password})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": "Bearer " + answer.get_json()["token"]}


def signed_out(web):
    page = web.get("/")
    api = web.get("/api/v1/locations")
    return page.status_code == 302 and page.headers["Location"].startswith("/login") and api.status_code == 401


def test_a_copied_cookie_is_refused_after_sign_out(app, web, organisation):
    assert web.login("manager@example.com").status_code == 302
    copy = copy_of(app, web)
    assert copy.get("/").status_code == 200  # the copy works while the session lasts
    assert web.post("/logout").status_code == 302
    assert signed_out(copy)
    assert signed_out(web)
    assert db.session.query(UserSession).count() == 0


def test_login_records_the_session(app, web, organisation):
    web.login("manager@example.com", headers={"User-Agent": "Firefox de prueba"})
    row = db.session.query(UserSession).one()
    assert row.user_id == organisation.ids["manager"] and row.user_agent == "Firefox de prueba"
    page = web.get("/account").get_data(as_text=True)
    assert "Firefox de prueba" in page and "this-device" in page


def test_last_seen_is_written_at_most_once_a_minute(app, web, organisation):
    web.login("manager@example.com")
    row = db.session.query(UserSession).one()
    seen = row.last_seen_at
    web.get("/")
    db.session.expire_all()
    assert db.session.query(UserSession).one().last_seen_at == seen
    row = db.session.query(UserSession).one()
    row.last_seen_at = seen - accounts.SEEN_EVERY
    db.session.commit()
    web.get("/")
    db.session.expire_all()
    assert db.session.query(UserSession).one().last_seen_at > seen - accounts.SEEN_EVERY


def test_sign_out_everywhere_ends_other_sessions_and_tokens(app, web, client, organisation):
    web.login("manager@example.com")
    other = WebSession(app.test_client())
    other.login("manager@example.com")
    bearer = token_for(client)
    someone_else = WebSession(app.test_client())
    someone_else.login("south@example.com")
    assert web.post("/account/sign-out-everywhere").headers["Location"].startswith("/login")
    assert signed_out(web) and signed_out(other)
    assert client.get("/api/v1/locations", headers=bearer).status_code == 401
    assert someone_else.get("/").status_code == 200  # other people's sessions go on


def test_a_password_change_ends_other_sessions_and_tokens_and_keeps_this_one(app, web, client, organisation):
    web.login("manager@example.com")
    other = WebSession(app.test_client())
    other.login("manager@example.com")
    bearer = token_for(client)
    done = web.post("/account/password", {"current": PASSWORD, "new": NEW_PASSWORD,
                                          "confirmation": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].startswith("/account")
    assert web.get("/").status_code == 200  # this device stays signed in
    assert signed_out(other)
    assert client.get("/api/v1/locations", headers=bearer).status_code == 401
    assert db.session.query(UserSession).count() == 1
    web.post("/logout")
    assert web.login("manager@example.com", NEW_PASSWORD).status_code == 302


def test_a_refused_password_change_says_why_and_changes_nothing(app, web, organisation):
    web.login("manager@example.com")
    before = db.session.get(User, organisation.ids["manager"]).password_hash
    cases = [
        ({"current": "wrong", "new": NEW_PASSWORD, "confirmation": NEW_PASSWORD}, "Wrong current password."),
        ({"current": PASSWORD, "new": NEW_PASSWORD, "confirmation": NEW_PASSWORD + "x"}, "The two new passwords differ."),
        ({"current": PASSWORD, "new": "corto", "confirmation": "corto"}, "Must be at least 10 characters."),
        ({"current": PASSWORD, "new": "password123", "confirmation": "password123"}, "Too common"),
        ({"current": PASSWORD, "new": "Momento2026!", "confirmation": "Momento2026!"}, "Too common"),
        ({"current": PASSWORD, "new": "manager12345", "confirmation": "manager12345"}, "Too close to your email"),
        ({"current": PASSWORD, "new": "buena\x00contraseña", "confirmation": "buena\x00contraseña"}, "NUL"),
    ]
    for form, message in cases:
        answer = web.post("/account/password", form, headers={"Accept-Language": "en"})
        assert answer.status_code == 422, form
        assert message in answer.get_data(as_text=True), (form, message)
    db.session.expire_all()
    assert db.session.get(User, organisation.ids["manager"]).password_hash == before
    assert db.session.query(UserSession).count() == 1
    spanish = web.post("/account/password", cases[2][0], headers={"Accept-Language": "es"})
    assert "al menos 10 caracteres" in spanish.get_data(as_text=True)


def test_deactivation_ends_sessions_and_tokens_at_the_next_request(app, web, client, organisation):
    web.login("manager@example.com")
    bearer = token_for(client)
    assert web.get("/").status_code == 200
    admin = db.session.get(User, organisation.ids["admin"])
    manager = db.session.get(User, organisation.ids["manager"])
    accounts.deactivate(manager, admin)
    assert signed_out(web)
    answer = client.get("/api/v1/locations", headers=bearer)
    assert answer.status_code == 401 and answer.get_json()["error"]["code"] == "unauthorized"
    assert db.session.query(ApiToken).count() == 0
    assert client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD}).status_code == 401
    entry = db.session.execute(db.text("select action, before, after from activity_log")).one()
    assert entry.action == "user.deactivate"
    accounts.reactivate(db.session.get(User, organisation.ids["manager"]), admin)
    assert web.login("manager@example.com").status_code == 302 and web.get("/").status_code == 200


def test_my_tokens_are_listed_and_revoked_on_the_account_page(app, web, client, organisation):
    bearer = token_for(client)
    web.login("manager@example.com")
    page = web.get("/account").get_data(as_text=True)
    token_id = re.search(r"/account/tokens/(\d+)/revoke", page).group(1)
    assert web.post(f"/account/tokens/{token_id}/revoke").status_code == 302
    assert client.get("/api/v1/locations", headers=bearer).status_code == 401
