"""The organisation's admin pages: regions, locations, their QR codes, and the cadence."""
import io

import pytest
import segno
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActivityEntry, Location, Region
from audit_server.services import cadence

LOCATION = {"code": "N9", "name": "Norte 9 🌵 Ñandú", "region": "N", "address": "Calle Mayor 1",
            "phone": "+34 600 000 000", "timezone": "Europe/Madrid"}


def entries(action):
    """The entries of `action` made by someone signed in (not the fixtures' "system")."""
    return db.session.scalars(sa.select(ActivityEntry).where(
        ActivityEntry.action == action, ActivityEntry.actor_id.is_not(None))
        .order_by(ActivityEntry.id)).all()


@pytest.fixture
def admin(web, organisation):
    web.login(organisation.emails["admin"])
    return web


def test_create_and_rename_a_region_through_the_forms(admin):
    response = admin.post("/admin/regions", {"code": "E-1", "name": "Este 🌅 Ñ"})
    assert response.status_code == 303
    page = admin.get("/admin/regions").get_data(as_text=True)
    assert "E-1" in page and "Este 🌅 Ñ" in page
    (created,) = entries("region.create")
    assert created.before is None and created.after == {"code": "E-1", "name": "Este 🌅 Ñ"}
    assert admin.post("/admin/regions/E-1", {"name": "Oriente"}).status_code == 303
    db.session.expire_all()
    assert db.session.scalar(sa.select(Region.name).where(Region.code == "E-1")) == "Oriente"
    (updated,) = entries("region.update")
    assert updated.before == {"name": "Este 🌅 Ñ"} and updated.after == {"name": "Oriente"}


@pytest.mark.parametrize("data, field, message", [
    ({"code": "N", "name": "Again"}, "code", "already exists"),
    ({"code": "bad code!", "name": "X"}, "code", "letters, digits"),
    ({"code": "X\x00", "name": "X"}, "code", "NUL"),
    ({"code": "X", "name": "Nu\x00l"}, "name", "NUL"),
])
def test_a_bad_region_is_refused_per_field(admin, data, field, message):
    response = admin.post("/admin/regions", data)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in html and message in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Region)) == 2
    assert not entries("region.create")


def test_an_empty_region_name_is_refused(admin):
    response = admin.post("/admin/regions/N", {"name": "  "})
    assert response.status_code == 422 and 'id="f-name-error"' in response.get_data(as_text=True)
    assert not entries("region.update")


def test_create_and_edit_a_location_through_the_forms(admin):
    assert admin.post("/admin/locations/new", LOCATION).status_code == 303
    (created,) = entries("location.create")
    assert created.after == LOCATION and created.before is None
    edited = dict(LOCATION, region="S", timezone="America/Mexico_City", code="S9")
    assert admin.post("/admin/locations/N9", edited).status_code == 303
    (updated,) = entries("location.update")
    assert updated.before == {"code": "N9", "region": "N", "timezone": "Europe/Madrid"}
    assert updated.after == {"code": "S9", "region": "S", "timezone": "America/Mexico_City"}
    page = admin.get("/admin/locations?region=S").get_data(as_text=True)
    assert "S9" in page and "Norte 9 🌵 Ñandú" in page and ">N1<" not in page


@pytest.mark.parametrize("change, field, message", [
    ({"code": "N1"}, "code", "already exists"),
    ({"timezone": "Mars/Olympus"}, "timezone", "is not a time zone"),
    ({"name": ""}, "name", "required"),
    ({"name": "A\x00B"}, "name", "NUL"),
    ({"address": "A\x00B"}, "address", "NUL"),
    ({"region": "ZZ"}, "region", "unknown region"),
    ({"phone": "call me"}, "phone", "not a phone number"),
])
def test_a_bad_location_is_refused_per_field(admin, change, field, message):
    response = admin.post("/admin/locations/new", dict(LOCATION, **change))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert f'id="f-{field}-error"' in html and message in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Location)) == 3
    assert not entries("location.create")


def test_editing_a_location_to_an_existing_code_is_refused(admin):
    response = admin.post("/admin/locations/N2", dict(LOCATION, code="N1"))
    assert response.status_code == 422 and "already exists" in response.get_data(as_text=True)


def test_the_form_offers_the_time_zones(admin):
    html = admin.get("/admin/locations/new").get_data(as_text=True)
    assert '<datalist id="zones">' in html and '<option value="Europe/Madrid">' in html


def test_the_qr_code_is_the_segno_encoding_of_the_door_url(admin):
    response = admin.get("/admin/locations/N1/qr.svg")
    assert response.status_code == 200 and response.mimetype == "image/svg+xml"
    expected = io.BytesIO()
    url = "http://localhost/l/N1"
    segno.make(url, error="m").save(expected, kind="svg", scale=8, border=4, title=url)
    assert response.data == expected.getvalue()
    assert b"<svg" in response.data
    poster = admin.get("/admin/locations/N1/poster").get_data(as_text=True)
    assert 'src="/admin/locations/N1/qr.svg"' in poster and url in poster


def test_the_region_sheet_has_a_card_for_each_of_its_locations_only(admin):
    html = admin.get("/admin/regions/N/qr-sheet").get_data(as_text=True)
    assert html.count('class="qr-card"') == 2
    assert "/admin/locations/N1/qr.svg" in html and "/admin/locations/N2/qr.svg" in html
    assert "/admin/locations/S1/qr.svg" not in html
    assert admin.get("/admin/regions/ZZ/qr-sheet").status_code == 404


def test_set_and_reset_a_cadence(admin, organisation):
    checklist = cadence.cadences("N")[0]["checklist_id"]
    response = admin.post("/admin/cadence", {"region": "N", "checklist": checklist, "days": "30"})
    assert response.status_code == 303
    db.session.expire_all()
    row = next(r for r in cadence.cadences("N") if r["checklist_id"] == checklist)
    assert row["days"] == 30 and not row["default"]
    (entry,) = entries("cadence.set")
    assert entry.after == {"days": 30, "default": False} and entry.before["default"] is True
    assert "30" in admin.get("/admin/cadence").get_data(as_text=True)
    due = admin.get(f"/api/v1/locations/{organisation.locations['N1']}/due").get_json()
    assert next(c for c in due["checklists"] if c["checklist_id"] == checklist)["cadence_days"] == 30
    bad = admin.post("/admin/cadence", {"region": "N", "checklist": checklist, "days": "0"})
    assert bad.status_code == 422 and "whole number of days" in bad.get_data(as_text=True)
    unknown = admin.post("/admin/cadence", {"region": "ZZ", "checklist": checklist, "days": "3"})
    assert unknown.status_code == 404
    reset = admin.post("/admin/cadence", {"region": "N", "checklist": checklist, "reset": "1"})
    assert reset.status_code == 303
    db.session.expire_all()
    row = next(r for r in cadence.cadences("N") if r["checklist_id"] == checklist)
    assert row["default"]
    (entry,) = entries("cadence.reset")
    assert entry.before == {"days": 30, "default": False} and entry.after["default"] is True


ADMIN_URLS = ["/admin/regions", "/admin/regions/N", "/admin/regions/N/qr-sheet",
              "/admin/locations", "/admin/locations/new", "/admin/locations/N1",
              "/admin/locations/N1/qr.svg", "/admin/locations/N1/poster", "/admin/cadence"]


@pytest.mark.parametrize("role", ["manager", "regional"])
def test_only_admins_reach_the_organisation_pages(web, organisation, role):
    web.login(organisation.emails[role])
    for url in ADMIN_URLS:
        assert web.get(url).status_code == 404, url
    for url in ("/admin/regions", "/admin/locations/new", "/admin/cadence"):
        assert web.post(url, {"code": "Z", "name": "Z"}).status_code == 404, url
