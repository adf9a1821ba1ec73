"""Several app servers behave as one (docs/deploy.md): two gunicorns with the project's
gunicorn.conf.py on one database and one S3 photo store (the tests' live S3 server), and Debian's nginx in front of them
with deploy/nginx.conf. A replay, a photo and a sign-out made through one server hold on
the other; nginx passes the client's address, the request id and photos up to the app's
limit; and when one server is killed with -9 mid-load, nothing is lost or duplicated."""
import contextlib
import json
import math
import os
import re
import threading
import time
import uuid

import pytest
import requests
import sqlalchemy as sa
from requests.adapters import HTTPAdapter

from audit_server.config import Config
from audit_server.extensions import db
from audit_server.models import Audit, Photo
from audit_server.request_bodies import MULTIPART_OVERHEAD
from audit_server.security_headers import HSTS
from tests import photo_samples
from tests.api.test_the_probe_over_http import csrf_of, refused, signed_in
from tests.conftest import gunicorn_env
from tests.helpers import audit_body, cannot_run_here, failing
from tests.topology import NGINX, NGINX_CONF, AppServer, topology

MiB = 1024 * 1024


@pytest.fixture(scope="module")
def nginx_installed():
    if NGINX is None:
        cannot_run_here("NGINX TESTS NOT RUN: Debian's nginx is not installed (apt-get install nginx).")


@pytest.fixture
def two_servers(app, database_url, tmp_path, s3_settings):
    """Two app servers on the tests' database and one S3 bucket (the live S3 server of
    the tests), without nginx."""
    servers = [AppServer(gunicorn_env(app, database_url, **s3_settings), tmp_path / f"app{n}.log") for n in (1, 2)]
    try:
        yield [server.start() for server in servers]
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def behind_nginx(app, database_url, tmp_path, nginx_installed):
    """`behind_nginx(**settings)`: two app servers behind nginx, (nginx, [servers])."""
    def start(**settings):
        return stack.enter_context(topology(gunicorn_env(app, database_url, **settings), tmp_path))

    with contextlib.ExitStack() as stack:
        yield start


def photo_form(photo_id, item_id="floor_clean", caption="Suelo mojado en la entrada 💧"):
    return {"id": str(photo_id), "item_id": item_id, "caption": caption}


def upload(url, audit_id, photo_id, data, headers, **kwargs):
    return requests.post(f"{url}/api/v1/audits/{audit_id}/photos", data=photo_form(photo_id),
                         files={"photo": ("suelo.jpg", data, "image/jpeg")}, headers=headers,
                         timeout=60, **kwargs)


def test_two_app_servers_behave_as_one(two_servers, organisation):
    one, other = (server.url for server in two_servers)
    bearer = organisation.headers("manager")

    body = audit_body(organisation.locations["N1"], answers=failing("floor_clean"),
                      notes="Nadie saludó; el suelo, mojado 🚪 fin")
    first = requests.post(f"{one}/api/v1/audits", json=body, headers=bearer, timeout=30)
    assert first.status_code == 201, first.text
    replay = requests.post(f"{other}/api/v1/audits", json=body, headers=bearer, timeout=30)
    assert replay.status_code == 200  # the phone's retry reached the other server
    assert replay.json() == first.json()

    photo_id = uuid.uuid4()
    stored = upload(one, body["id"], photo_id, photo_samples.megabyte_jpeg(), bearer)
    assert stored.status_code == 201, stored.text
    for size in ("display", "thumb"):
        there = requests.get(f"{one}/photos/{photo_id}/{size}", headers=bearer, timeout=30)
        here = requests.get(f"{other}/photos/{photo_id}/{size}", headers=bearer, timeout=30)
        assert here.status_code == there.status_code == 200
        assert here.content == there.content and here.headers["ETag"] == there.headers["ETag"]

    http = signed_in(one, organisation.emails["manager"])
    copied = http.cookies.get("session")
    assert requests.get(other + "/", cookies={"session": copied}, allow_redirects=False, timeout=30).status_code == 200
    http.post(one + "/logout", data={"csrf_token": csrf_of(http, one)}, allow_redirects=False, timeout=30)
    assert refused(requests.get(other + "/", cookies={"session": copied}, allow_redirects=False, timeout=30))

    # gunicorn's access log: a JSON line per request, whatever the client sends in it.
    odd = requests.get(one + "/login?q=%22", headers={"User-Agent": 'Teléfono "raro" \\ {}'}, timeout=30)
    time.sleep(0.2)
    lines = [json.loads(line) for server in two_servers for line in server.log.read_text().splitlines()
             if '"gunicorn.access"' in line]
    [logged] = [line for line in lines if line["request_id"] == odd.headers["X-Request-ID"]]
    assert logged["user_agent"] == 'Teléfono "raro" \\ {}' and logged["status"] == 200
    assert not any(line.get("logger") == "audit_server.access" for line in lines)  # one access line each


def test_the_proxy_headers_count_only_when_the_app_is_told_to_trust_them(make_app, organisation):
    forged = {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
    direct = make_app().test_client().get("/login", headers=forged, environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert "Strict-Transport-Security" not in direct.headers  # a client cannot claim https
    proxied = make_app(PROXY_HOPS=1).test_client().get(
        "/login", headers=forged, environ_base={"REMOTE_ADDR": "127.0.0.1"})
    assert proxied.headers["Strict-Transport-Security"] == HSTS


class FromAddress(HTTPAdapter):
    """Requests sent from another loopback address (127.0.0.2, ...), as another client."""

    def __init__(self, address):
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        super().init_poolmanager(*args, **kwargs)


def client_at(address):
    session = requests.Session()
    session.mount("http://", FromAddress(address))
    return session


def test_nginx_passes_the_client_address_the_request_id_and_photos_up_to_the_app_limit(
        behind_nginx, organisation, make_app, redis_url, redis_prefix):
    nginx, servers = behind_nginx(RATELIMIT_ENABLED="true", RATELIMIT_STORAGE_URI=redis_url,
                                  RATELIMIT_KEY_PREFIX=redis_prefix)
    bearer = organisation.headers("manager")

    # Failed sign-ins from one phone count in Redis, whichever server takes them, under the
    # phone's own address: another phone behind the same nginx is not slowed.
    phone, neighbour = client_at("127.0.0.2"), client_at("127.0.0.3")
    answers = [phone.post(f"{nginx.url}/api/v1/auth/token", timeout=30,
                          json={"email": f"nadie{n}@example.com", "password": f"contraseña-{n} ñ"})
               for n in range(11)]
    assert [a.status_code for a in answers] == [401] * 10 + [429]
    assert int(answers[-1].headers["Retry-After"]) > 0
    assert neighbour.post(f"{nginx.url}/api/v1/auth/token", json={"email": "otra@example.com", "password": "x" * 12},
                          timeout=30).status_code == 401
    from audit_server import throttling

    with make_app(RATELIMIT_ENABLED=True, RATELIMIT_STORAGE_URI=redis_url,
                  RATELIMIT_KEY_PREFIX=redis_prefix).app_context():
        assert [entry["key"] for entry in throttling.throttled_keys()] == ["address:127.0.0.2"]

    # Every request reached an app server with nginx's request id, which every log shows.
    answer = requests.get(f"{nginx.url}/api/v1/locations", headers=bearer, timeout=30)
    request_id = answer.headers["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    time.sleep(0.5)  # nginx writes its line once the response is sent
    [logged] = [json.loads(line) for line in nginx.access_lines() if request_id in line]
    assert logged["status"] == 200 and logged["uri"] == "/api/v1/locations"
    gunicorn_lines = [json.loads(line) for server in servers for line in server.log.read_text().splitlines()
                      if line.startswith("{") and '"gunicorn.access"' in line]
    [served] = [line for line in gunicorn_lines if line["request_id"] == request_id]
    assert served["status"] == 200 and served["forwarded_for"] == "127.0.0.1"
    assert {line["path"] for line in gunicorn_lines} >= {"/api/v1/auth/token", "/api/v1/locations"}
    assert len({server.log for server in servers if '"gunicorn.access"' in server.log.read_text()}) == 2

    # A camera photo of several MB goes through; a body the app refuses gets the app's
    # reason; only a body beyond what the app could take is stopped by nginx itself.
    limit = re.search(r"client_max_body_size (\d+)m;", NGINX_CONF.read_text()).group(1)
    app_limit = Config.PHOTO_MAX_BYTES + MULTIPART_OVERHEAD
    assert int(limit) == math.ceil(app_limit / MiB)  # the app's reason wins up to its own limit
    audit = audit_body(organisation.locations["N1"], answers=failing("floor_clean"))
    assert requests.post(f"{nginx.url}/api/v1/audits", json=audit, headers=bearer, timeout=30).status_code == 201
    big = photo_samples.camera_jpeg()
    assert len(big) > 3 * MiB
    assert upload(nginx.url, audit["id"], uuid.uuid4(), big, bearer).status_code == 201
    too_large = upload(nginx.url, audit["id"], uuid.uuid4(), big + os.urandom(Config.PHOTO_MAX_BYTES - len(big) + 1024),
                       bearer)
    assert too_large.status_code == 413 and too_large.json()["error"]["code"] == "payload_too_large"
    assert too_large.headers.get("X-Request-ID")  # the app's answer, not nginx's
    beyond = upload(nginx.url, audit["id"], uuid.uuid4(), os.urandom(int(limit) * MiB + 1), bearer)
    assert beyond.status_code == 413
    assert beyond.json()["error"] == {"code": "payload_too_large", "fields": {},
                                      "message": "The request body is larger than this server takes (26 MiB)."}


class Phone(threading.Thread):
    """A phone (the regional manager's, who may audit each shop of region N) sending `count` walk-in audits, each with a photo of its failure,
    through nginx, as the outbox does: an answer other than 200/201 (or none) is sent again,
    with the same ids, a moment later."""

    def __init__(self, url, organisation, location, count, photo):
        super().__init__()
        self.url, self.bearer, self.photo = url, organisation.headers("regional"), photo
        self.bodies = [audit_body(organisation.locations[location], answers=failing("floor_clean"),
                                  notes=f"Teléfono {location}: ¿nadie saludó? 😕")
                       for _ in range(count)]
        self.photo_ids = [uuid.uuid4() for _ in range(count)]
        self.sent = 0
        self.retries = []
        self.failure = None

    def send(self, what, attempt):
        for _ in range(60):
            try:
                answer = attempt()
                if answer.status_code in (200, 201):
                    return answer
                if answer.status_code not in (502, 503, 504):
                    raise AssertionError(f"{what}: {answer.status_code} {answer.text[:300]}")
                self.retries.append(answer.status_code)
            except requests.ConnectionError as error:
                self.retries.append(type(error).__name__)
            time.sleep(0.2)
        raise AssertionError(f"{what}: not stored after 60 tries")

    def run(self):
        try:
            for body, photo_id in zip(self.bodies, self.photo_ids, strict=True):
                self.send("audit", lambda b=body: requests.post(f"{self.url}/api/v1/audits", json=b,
                                                                headers=self.bearer, timeout=30))
                self.send("photo", lambda b=body, p=photo_id: upload(self.url, b["id"], p, self.photo, self.bearer))
                self.sent += 1
        except BaseException as failure:  # noqa: BLE001 (reported by the test)
            self.failure = failure


def test_one_server_killed_mid_load_loses_and_duplicates_nothing(behind_nginx, organisation, s3_settings):
    organisation.add_locations(*(f"P{n},Tienda {n} · Ñandú,N,,,Europe/Madrid" for n in range(4)))
    nginx, (doomed, survivor) = behind_nginx(**s3_settings)
    photo = photo_samples.jpeg_300kb()
    phones = [Phone(nginx.url, organisation, f"P{n}", 12, photo) for n in range(4)]
    for phone in phones:
        phone.start()
    while sum(phone.sent for phone in phones) < 12 and all(phone.is_alive() for phone in phones):
        time.sleep(0.05)
    doomed.kill()
    killed_at = sum(phone.sent for phone in phones)
    for phone in phones:
        phone.join(300)
    assert [phone.failure for phone in phones] == [None] * 4
    assert killed_at < 48  # the kill came while the phones were still sending

    sent_audits = {body["id"] for phone in phones for body in phone.bodies}
    sent_photos = {str(photo_id) for phone in phones for photo_id in phone.photo_ids}
    db.session.remove()
    audits = db.session.scalars(sa.select(Audit.id)).all()
    photos = db.session.scalars(sa.select(Photo.id)).all()
    assert sorted(str(a) for a in audits) == sorted(sent_audits)  # each exactly once, none else
    assert sorted(str(p) for p in photos) == sorted(sent_photos)
    for photo_id in list(sent_photos)[:5]:  # and their files are there, served by the survivor
        served = requests.get(f"{nginx.url}/photos/{photo_id}/thumb", headers=organisation.headers("regional"),
                              timeout=30)
        assert served.status_code == 200 and served.headers["Content-Type"].startswith("image/")
    assert '"gunicorn.access"' in survivor.log.read_text()
