"""The admins' sign-in throttling page (issue 15): the accounts and addresses over a limit,
read from Flask-Limiter's storage, each cleared with a button (recorded in the activity log)."""
from audit_server.extensions import db
from audit_server.models import ActivityEntry
from tests.api.test_throttling import storage  # noqa: F401 (a fixture)
from tests.helpers import PASSWORD

TOKEN = "/api/v1/auth/token"


def test_the_page_lists_throttled_accounts_and_addresses_and_clears_them(make_app, organisation, web_on,
                                                                        storage):  # noqa: F811
    app = make_app(RATELIMIT_ENABLED=True, **storage)
    client = app.test_client()
    for n in range(6):  # "5 per minute" per account, from as many addresses
        client.post(TOKEN, json={"email": "Manager@example.com", "password": f"mala-{n}"},
                    environ_base={"REMOTE_ADDR": f"203.0.113.{n}"})
    for n in range(11):  # "10 per minute" per address, for as many accounts
        client.post(TOKEN, json={"email": f"nadie-{n}@example.com", "password": "mala"},
                    environ_base={"REMOTE_ADDR": "198.51.100.7"})
    assert client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429

    admin = web_on(app)
    assert admin.login("admin@example.com", environ_base={"REMOTE_ADDR": "192.0.2.50"}).status_code == 302
    page = admin.get("/admin/throttling", headers={"Accept-Language": "en"})
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "manager@example.com" in text and "198.51.100.7" in text
    assert "nadie-1@example.com" not in text  # under its own limit
    assert text.count('class="throttled-row"') == 2

    cleared = admin.post("/admin/throttling/clear", {"key": "account:manager@example.com"})
    assert cleared.status_code == 302
    text = admin.get("/admin/throttling").get_data(as_text=True)
    assert "198.51.100.7" in text and text.count('class="throttled-row"') == 1
    assert client.post(TOKEN, json={"email": "manager@example.com", "password": PASSWORD},
                       environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 201
    entry = db.session.scalars(db.select(ActivityEntry)).one()
    assert (entry.action, entry.target_label, entry.actor_email) == (
        "throttling.clear", "account:manager@example.com", "admin@example.com")

    admin.post("/admin/throttling/clear", {"key": "address:198.51.100.7"})
    assert 'class="throttled-row"' not in admin.get("/admin/throttling").get_data(as_text=True)
    # Junk is ignored, and nothing is recorded for it.
    assert admin.post("/admin/throttling/clear", {"key": "LIMITER/x"}).status_code == 302
    assert db.session.query(ActivityEntry).count() == 2


def test_only_admins_see_it(web, organisation):
    web.login("manager@example.com")
    assert web.get("/admin/throttling").status_code == 404
    assert web.post("/admin/throttling/clear", {"key": "address:1.2.3.4"}).status_code == 404


def test_without_throttling_the_page_is_empty(web, organisation):
    web.login("admin@example.com")
    page = web.get("/admin/throttling")
    assert page.status_code == 200 and 'class="throttled-row"' not in page.get_data(as_text=True)
