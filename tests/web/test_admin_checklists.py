"""The checklists page: stored versions, a preview as the phone draws it, and uploads
checked against the schema (every error by its JSON path, nothing stored if any)."""
import copy
import io
import json

import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActivityEntry, ChecklistVersion
from audit_server.services import checklists
from tests.helpers import WALK_IN


def count_versions():
    return db.session.scalar(sa.select(sa.func.count()).select_from(ChecklistVersion))


def upload(web, definition, filename=None):
    data = definition if isinstance(definition, bytes) else json.dumps(definition).encode()
    return web.post("/admin/checklists/upload",
                    {"file": (io.BytesIO(data), filename or f"{WALK_IN}.json")},
                    content_type="multipart/form-data")


def walk_in():
    return copy.deepcopy(checklists.current_checklist(WALK_IN).definition)


def test_an_upload_with_errors_lists_them_by_path_and_stores_nothing(web, organisation):
    checklists.store_versions(checklists.current_checklists())
    before = count_versions()
    web.login(organisation.emails["admin"])
    bad = walk_in()
    del bad["kind"]
    bad["sections"][0]["items"][0]["type"] = "nonsense"
    page = upload(web, bad)
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    assert "<code>$</code>" in html and "<code>$.sections[0].items[0]" in html
    assert upload(web, b"{not json").status_code == 422
    assert upload(web, b"\xff\xfe").status_code == 422
    dup = walk_in()
    dup["sections"][0]["items"].append(dup["sections"][0]["items"][0])
    html = upload(web, dup).get_data(as_text=True)
    assert "duplicate item id" in html
    assert count_versions() == before
    assert not db.session.scalar(sa.select(ActivityEntry).filter_by(action="checklist.upload"))


def test_a_valid_upload_stores_a_version_that_can_be_previewed(web, organisation):
    web.login(organisation.emails["admin"])
    before = count_versions()
    new = walk_in()
    new["title"] = {"en": "Walk in, again 🌵", "es": "Entrar, otra vez ñ"} if isinstance(new["title"], dict) \
        else "Walk in, again 🌵"
    page = upload(web, new)
    assert page.status_code == 200, page.get_data(as_text=True)[-2000:]
    version = checklists.content_version(new)
    assert db.session.get(ChecklistVersion, (WALK_IN, version))
    assert count_versions() == before + 1
    entry = db.session.scalar(sa.select(ActivityEntry).filter_by(action="checklist.upload"))
    assert entry.after["version"] == version
    assert upload(web, new, filename="other_name.json").status_code == 422  # the name is the id
    preview = web.get(f"/admin/checklists/{WALK_IN}/{version}")
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200 and "Walk in, again" in html
    assert 'id="audit-form"' in html and "data-preview" in html
    assert "audit-form.js" not in html and 'type="submit"' not in html.split('id="audit-form"')[1].split("</form>")[0]
    assert version in web.get("/admin/checklists").get_data(as_text=True)
    assert web.get(f"/admin/checklists/{WALK_IN}/0000000000000000").status_code == 404
