"""Throttling of failed sign-ins (issue 15): the login form and POST /api/v1/auth/token,
per account and per address, answered 429 with Retry-After, never locked for good;
in memory and in Redis (RATELIMIT_STORAGE_URI), in one process and across gunicorn's."""
import re
import time

import pytest
import requests

from tests.helpers import PASSWORD

TOKEN = "/api/v1/auth/token"


def address(n):
    return {"REMOTE_ADDR": f"203.0.113.{n}"}


def retry_after(response, at_most):
    seconds = int(response.headers["Retry-After"])
    assert 1 <= seconds <= at_most, seconds
    return seconds


def assert_too_many(response, at_most=3600):
    assert response.status_code == 429, response.get_data(as_text=True)
    body = response.get_json()
    assert body["error"]["code"] == "rate_limited" and body["error"]["fields"] == {}
    seconds = retry_after(response, at_most)
    assert f"try again in {seconds} seconds" in body["error"]["message"]
    return seconds


def first_refusal(statuses):
    """The attempt (counted from 1) first answered 429; every later one must be too."""
    first = statuses.index(429)
    assert set(statuses[first:]) == {429}, statuses
    return first + 1


@pytest.fixture(params=["memory", "redis"])
def storage(request):
    """Flask-Limiter's settings of each storage."""
    if request.param == "memory":
        return {"RATELIMIT_STORAGE_URI": "memory://"}
    return {"RATELIMIT_STORAGE_URI": request.getfixturevalue("redis_url"),
            "RATELIMIT_KEY_PREFIX": request.getfixturevalue("redis_prefix")}


@pytest.fixture
def throttled(make_app, storage):
    """make_app with throttling on (the tests' apps have it off), in each storage."""
    return lambda **settings: make_app(RATELIMIT_ENABLED=True, **storage, **settings)


def test_thirty_wrong_passwords_for_one_account_from_many_addresses(throttled, organisation):
    client = throttled().test_client()
    # The account is the email asked for, as sign-in reads it: case and spaces aside.
    spellings = ["manager@example.com", "Manager@Example.com ", " MANAGER@example.COM"]
    answers = [client.post(TOKEN, json={"email": spellings[n % 3], "password": f"contraseña-{n}"},
                           environ_base=address(n)) for n in range(30)]
    statuses = [answer.status_code for answer in answers]
    assert first_refusal(statuses) == 6  # "5 per minute" per account
    assert set(statuses[:5]) == {401}
    for answer in answers[5:]:
        assert_too_many(answer, at_most=61)
    # While it lasts, the right password is refused too: a 429 tells nothing about it.
    right = client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                        environ_base=address(200))
    assert_too_many(right, at_most=61)
    # Another account is not slowed by it.
    other = client.post(TOKEN, json={"email": "south@example.com", "password": PASSWORD},
                        environ_base=address(201))
    assert other.status_code == 201


def test_thirty_wrong_passwords_from_one_address_for_many_accounts(throttled, organisation):
    client = throttled().test_client()
    emails = [f"josé.ñandú+{n}@example.com" for n in range(29)] + ["manager@example.com"]
    statuses = [client.post(TOKEN, json={"email": email, "password": "🔑 wrong"},
                            environ_base=address(7)).status_code for email in emails]
    assert first_refusal(statuses) == 11  # "10 per minute" per address
    right = client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                        environ_base=address(7))
    assert_too_many(right, at_most=61)
    elsewhere = client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                            environ_base=address(8))
    assert elsewhere.status_code == 201


def test_the_form_and_the_api_count_in_the_same_buckets(throttled, organisation, web_on):
    app = throttled()
    web, client = web_on(app), app.test_client()
    for n in range(3):
        assert web.login("manager@example.com", "wrong", environ_base=address(n)).status_code == 401
        assert client.post(TOKEN, json={"email": "manager@example.com", "password": "wrong"},
                           environ_base=address(n)).status_code == (401 if n < 2 else 429)


def test_successful_sign_ins_are_not_counted(throttled, organisation):
    client = throttled().test_client()
    for _ in range(25):  # more than any limit, from one address, for one account
        answer = client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                             environ_base=address(9))
        assert answer.status_code == 201


def test_once_the_window_has_passed_the_right_password_works(throttled, organisation):
    client = throttled(SIGNIN_LIMITS_PER_ACCOUNT="3 per 2 seconds").test_client()
    for n in range(3):
        assert client.post(TOKEN, json={"email": "manager@example.com", "password": "wrong"},
                           environ_base=address(n)).status_code == 401
    for n in range(10):  # attempts while it lasts are refused and do not make it last longer
        refused = client.post(TOKEN, json={"email": "manager@example.com", "password": "wrong"},
                              environ_base=address(n))
        seconds = assert_too_many(refused, at_most=3)
    time.sleep(seconds)
    right = client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                        environ_base=address(50))
    assert right.status_code == 201, right.get_json()


@pytest.mark.parametrize("language, message", [
    ("es-ES,es;q=0.9", r"Demasiados intentos fallidos de iniciar sesión\. Vuelve a intentarlo en (\d+) segundos?\."),
    ("en-GB,en;q=0.9", r"Too many failed sign-ins\. Try again in (\d+) seconds?\."),
])
def test_the_login_form_says_so_in_the_persons_language(make_app, organisation, web_on, language, message):
    web = web_on(make_app(RATELIMIT_ENABLED=True))
    headers = {"Accept-Language": language}
    for _ in range(5):
        assert web.login("manager@example.com", "wrong", headers=headers).status_code == 401
    page = web.login("Manager@example.com", PASSWORD, headers=headers)
    assert page.status_code == 429 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    shown = re.search(f'<p class="alert" role="alert" id="login-error">{message}</p>', html)
    assert shown, html
    assert int(shown.group(1)) == retry_after(page, at_most=61)
    # The form is there again, with the email typed, to try once the time has passed.
    assert 'value="Manager@example.com"' in html and 'name="password"' in html
    assert web.get("/login", headers=headers).status_code == 200  # looking at it is never throttled


def test_an_unreachable_redis_slows_sign_in_in_memory_instead_of_failing(make_app, organisation):
    client = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI="redis://127.0.0.1:9/0").test_client()
    statuses = [client.post(TOKEN, json={"email": "manager@example.com", "password": "wrong"}).status_code
                for _ in range(8)]
    assert statuses == [401] * 5 + [429] * 3


def test_gunicorn_workers_count_together_in_redis(serve_with_gunicorn, organisation, redis_url, redis_prefix):
    settings = {"RATELIMIT_ENABLED": "true", "RATELIMIT_STORAGE_URI": redis_url,
                "RATELIMIT_KEY_PREFIX": redis_prefix}
    with serve_with_gunicorn(**settings) as (url, _log), requests.Session() as http:
        answers = [http.post(url + TOKEN, json={"email": "regional@example.com", "password": f"nope {n}"},
                             timeout=30) for n in range(30)]
        statuses = [answer.status_code for answer in answers]
        assert first_refusal(statuses) == 6, statuses  # two workers, one count
        refused = answers[-1]
        assert refused.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 61
