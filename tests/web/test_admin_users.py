"""The users page: invitations by a one-time link, role and scope, deactivating, resets."""
import re
from datetime import timedelta

import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActivityEntry, Invitation, User
from audit_server.models.types import utcnow
from tests.helpers import PASSWORD

NEW_PASSWORD = "a brand new password ñ 🌵"


def invite(web, organisation, email="new@example.com", role="manager", **scope):
    web.login(organisation.emails["admin"])
    data = {"email": email, "name": "Nueva", "role": role, **scope}
    page = web.post("/admin/users/invite", data)
    return page, _link(page)


def _link(page):
    found = re.search(r'value="http://[^/"]+(/invitations/[^"]+)"', page.get_data(as_text=True))
    return found and found.group(1)


def accept(web, path, password=NEW_PASSWORD, again=None, name="Nueva Ñ"):
    web.post("/logout")
    return web.post(path, {"name": name, "password": password,
                           "password_again": password if again is None else again})


def count_users():
    return db.session.scalar(sa.select(sa.func.count()).select_from(User))


def test_an_invitation_works_once_and_the_new_manager_sees_only_their_location(web, organisation):
    page, path = invite(web, organisation, locations=["N2"])
    assert page.status_code == 200 and path
    token = path.rsplit("/", 1)[1]
    row = db.session.scalar(sa.select(Invitation))
    assert token not in (row.token_hash, row.email) and len(row.token_hash) == 64
    assert "new@example.com" in web.get("/admin/users").get_data(as_text=True)  # pending
    web.post("/logout")
    assert web.get(path).status_code == 200
    assert accept(web, path, again="something else entirely").status_code == 422
    assert accept(web, path, password="short").status_code == 422
    assert accept(web, path, name="bad\x00name").status_code == 422
    assert count_users() == 4
    answer = accept(web, path)
    assert answer.status_code == 302 and answer.headers["Location"].endswith("/")
    user = db.session.scalar(sa.select(User).filter_by(email="new@example.com"))
    assert user.role == "manager" and [loc.code for loc in user.locations] == ["N2"]
    assert user.name == "Nueva Ñ"
    codes = {loc["code"] for loc in web.get("/api/v1/locations").get_json()}
    assert codes == {"N2"}
    web.post("/logout")
    assert web.get(path).status_code == 410
    assert accept(web, path).status_code == 410
    assert count_users() == 5
    assert db.session.scalar(sa.select(ActivityEntry).filter_by(action="invitation.accept"))


def test_expired_unknown_and_revoked_links_are_refused(web, organisation):
    _, path = invite(web, organisation, locations=["N1"])
    row = db.session.scalar(sa.select(Invitation))
    row.expires_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    assert accept(web, path).status_code == 410
    assert web.get("/invitations/not-a-token").status_code == 404
    assert accept(web, "/invitations/not-a-token").status_code == 404
    _, path = invite(web, organisation, email="other@example.com", role="admin")
    row = db.session.scalar(sa.select(Invitation).filter_by(email="other@example.com"))
    assert web.post(f"/admin/invitations/{row.id}/revoke").status_code == 200
    assert accept(web, path).status_code == 410
    assert count_users() == 4


def test_an_invitation_needs_a_valid_scope(web, organisation):
    page, path = invite(web, organisation, role="manager")
    assert page.status_code == 422 and path is None
    assert "A location manager needs at least one location." in page.get_data(as_text=True)
    page, _ = invite(web, organisation, email=organisation.emails["manager"], locations=["N1"])
    assert page.status_code == 422
    page, _ = invite(web, organisation, email="x\x00@example.com", locations=["N1"])
    assert page.status_code == 422
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Invitation)) == 0


def test_role_and_scope_are_edited_with_the_same_rules(web, organisation):
    web.login(organisation.emails["admin"])
    uid = organisation.ids["manager"]
    assert web.get(f"/admin/users/{uid}").status_code == 200
    assert web.post(f"/admin/users/{uid}", {"role": "regional", "name": "M"}).status_code == 422
    assert web.post(f"/admin/users/{uid}", {"role": "boss"}).status_code == 422
    db.session.expire_all()
    user = db.session.get(User, uid)
    assert user.role == "manager" and [loc.code for loc in user.locations] == ["N1"]
    answer = web.post(f"/admin/users/{uid}", {"role": "regional", "regions": ["S"], "name": "Ñandú 🌵"})
    assert answer.status_code == 200
    db.session.expire_all()
    user = db.session.get(User, uid)
    assert user.role == "regional" and [r.code for r in user.regions] == ["S"] and user.locations == []
    entry = db.session.scalar(sa.select(ActivityEntry).filter_by(action="user.update"))
    assert entry.after["role"] == "regional" and entry.before["locations"] == ["N1"]
    # The last admin stays an admin.
    admin_id = organisation.ids["admin"]
    assert web.post(f"/admin/users/{admin_id}", {"role": "manager", "locations": ["N1"]}).status_code == 422
    db.session.expire_all()
    assert db.session.get(User, admin_id).role == "admin"


def test_deactivate_and_reactivate_and_the_last_admin(web, organisation, app, web_on):
    manager = web_on(app)
    assert manager.login(organisation.emails["manager"]).status_code == 302
    web.login(organisation.emails["admin"])
    uid = organisation.ids["manager"]
    assert web.post(f"/admin/users/{uid}/active", {"active": "0"}).status_code == 200
    db.session.expire_all()
    assert db.session.get(User, uid).active is False
    assert manager.get("/").status_code == 302  # their session ended: to sign-in
    listed = web.get("/admin/users?role=manager").get_data(as_text=True)
    assert "Deactivated" in listed or "Desactivado" in listed
    assert web.post(f"/admin/users/{organisation.ids['admin']}/active", {"active": "0"}).status_code == 422
    db.session.expire_all()
    assert db.session.get(User, organisation.ids["admin"]).active is True
    web.post("/logout")
    assert web.login(organisation.emails["manager"]).status_code == 401
    web.login(organisation.emails["admin"])
    assert web.post(f"/admin/users/{uid}/active", {"active": "1"}).status_code == 200
    actions = db.session.scalars(sa.select(ActivityEntry.action).order_by(ActivityEntry.id)).all()
    assert actions == ["user.deactivate", "user.reactivate"]
    web.post("/logout")
    assert web.login(organisation.emails["manager"]).status_code == 302


def test_a_reset_link_sets_the_password_once(web, organisation):
    web.login(organisation.emails["admin"])
    page = web.post(f"/admin/users/{organisation.ids['manager']}/reset")
    path = _link(page)
    assert path
    assert accept(web, path).status_code == 302
    web.post("/logout")
    assert web.login(organisation.emails["manager"]).status_code == 401
    assert web.login(organisation.emails["manager"], NEW_PASSWORD).status_code == 302
    assert accept(web, path, password="yet another password").status_code == 410
    web.post("/logout")
    assert web.login(organisation.emails["manager"], NEW_PASSWORD).status_code == 302
    assert count_users() == 4 and PASSWORD != NEW_PASSWORD


class FakeMailer:
    sent = []

    def __init__(self, settings):
        self.settings = settings

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def send(self, msg):
        self.sent.append(msg)


def test_the_invitation_is_emailed_when_mail_is_configured(web, organisation, app, monkeypatch):
    from audit_server import mail
    monkeypatch.setitem(app.config, "MAIL_SERVER", "smtp.example.com")
    monkeypatch.setitem(app.config, "MAIL_FROM", "Momento <momento@example.com>")
    monkeypatch.setattr(mail, "Mailer", FakeMailer)
    FakeMailer.sent.clear()
    page, path = invite(web, organisation, email="mailed@example.com", locations=["N1"])
    assert page.status_code == 200 and path
    [msg] = FakeMailer.sent
    assert msg["To"].addresses[0].addr_spec == "mailed@example.com"
    assert path in msg.get_body(("plain",)).get_content()
