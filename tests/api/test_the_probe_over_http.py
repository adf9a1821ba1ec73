"""The probe of issue 15, repeated through gunicorn over real HTTP: a session cookie copied
before sign-out is refused after it, on every worker; a deactivated person's open session
and token stop working at their next request; a cookie signed with the old default key
is refused. (30 wrong passwords in a row: tests/api/test_throttling.py, also over gunicorn.)"""
import re

import requests

from audit_server.extensions import db
from audit_server.models import User
from audit_server.services import accounts
from tests.helpers import PASSWORD
from tests.unit.test_secret_key import OLD_DEFAULT, signed_session


def signed_in(url, email):
    http = requests.Session()
    page = http.get(url + "/login", timeout=30).text
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    answer = http.post(url + "/login", data={"email": email, "password": PASSWORD, "csrf_token": token},
                       allow_redirects=False, timeout=30)
    assert answer.status_code == 302, answer.text
    return http


def csrf_of(http, url):
    return re.search(r'name="csrf-token" content="([^"]+)"', http.get(url + "/", timeout=30).text).group(1)


def refused(answer):
    return answer.status_code == 302 and answer.headers["Location"].startswith("/login")


def test_a_copied_cookie_is_refused_after_sign_out(gunicorn_server, organisation):
    url = gunicorn_server
    http = signed_in(url, organisation.emails["manager"])
    copied = http.cookies.get("session")
    assert http.get(url + "/", allow_redirects=False, timeout=30).status_code == 200
    answer = http.post(url + "/logout", data={"csrf_token": csrf_of(http, url)}, allow_redirects=False, timeout=30)
    assert refused(answer)
    for _ in range(4):  # whichever of the two workers answers
        again = requests.get(url + "/", cookies={"session": copied}, allow_redirects=False, timeout=30)
        assert refused(again), again.status_code
        api = requests.get(url + "/api/v1/locations", cookies={"session": copied}, timeout=30)
        assert api.status_code == 401


def test_deactivation_ends_an_open_session_and_token_at_their_next_request(gunicorn_server, organisation):
    url = gunicorn_server
    http = signed_in(url, organisation.emails["manager"])
    bearer = organisation.headers("manager")
    assert http.get(url + "/api/v1/locations", timeout=30).status_code == 200
    assert requests.get(url + "/api/v1/locations", headers=bearer, timeout=30).status_code == 200
    accounts.deactivate(db.session.get(User, organisation.ids["manager"]),
                        db.session.get(User, organisation.ids["admin"]))
    assert refused(http.get(url + "/", allow_redirects=False, timeout=30))
    assert http.get(url + "/api/v1/locations", timeout=30).status_code == 401
    assert requests.get(url + "/api/v1/locations", headers=bearer, timeout=30).status_code == 401


def test_a_cookie_signed_with_the_old_default_key_is_refused(gunicorn_server, organisation):
    sid = accounts.open_session(db.session.get(User, organisation.ids["admin"]))
    forged = signed_session(OLD_DEFAULT, {"_user_id": str(organisation.ids["admin"]), "_fresh": True, "sid": sid})
    answer = requests.get(gunicorn_server + "/", cookies={"session": forged}, allow_redirects=False, timeout=30)
    assert refused(answer)
    assert requests.get(gunicorn_server + "/api/v1/locations", cookies={"session": forged},
                        timeout=30).status_code == 401
