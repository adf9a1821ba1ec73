"""The admin pages' frame and the activity log: admins only, every change readable."""
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActivityEntry, User
from audit_server.services import activity


def test_only_admins_reach_the_admin_pages(web, organisation):
    assert web.get("/admin/").status_code == 302  # to sign-in
    for role in ("manager", "regional"):
        web.login(organisation.emails[role])
        assert web.get("/admin/").status_code == 404
        assert web.get("/admin/activity").status_code == 404
        web.post("/logout")
    web.login(organisation.emails["admin"])
    page = web.get("/admin/")
    assert page.status_code == 200
    assert 'href="/admin/activity"' in page.get_data(as_text=True)


def test_a_recorded_change_reads_who_what_when_and_before_after(web, organisation):
    admin = db.session.get(User, organisation.ids["admin"])
    before, after = activity.changes({"name": "Norte", "code": "N"}, {"name": "Norte 🌵 Ñ", "code": "N"})
    assert before == {"name": "Norte"} and after == {"name": "Norte 🌵 Ñ"}
    activity.record(admin, "region.update", "region", 7, "Norte 🌵 Ñ", before, after)
    activity.record(admin, "location.create", "location", 9, "N9", None, {"code": "N9"})
    db.session.commit()
    web.login(organisation.emails["admin"])
    html = web.get("/admin/activity").get_data(as_text=True)
    assert "region.update" in html and "Norte 🌵 Ñ" in html and organisation.emails["admin"] in html
    assert "<td>Norte</td>" in html
    filtered = web.get("/admin/activity?kind=location").get_data(as_text=True)
    listed = filtered.split('class="activity-list"')[-1]
    assert "location.create" in listed and "region.update" not in listed
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ActivityEntry)) == 2
