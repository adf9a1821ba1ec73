"""The checklists page: every checklist and its stored versions, a preview of a version
as the phone draws it, and the upload of a new checklist file (checked against
checklists/schema.json; every error shown with its JSON path, nothing stored if any)."""
from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...extensions import db
from ...models import ChecklistVersion
from ...services import checklists, item_types
from ...services.errors import InvalidInput
from ...services.scoring import points_table
from . import bp, section

section("admin.checklists", _l("Checklists"))
MAX_UPLOAD = 512 * 1024


def _page(status=200, **context):
    return render_template("admin/checklists.html", current=checklists.current_checklists(),
                           versions=checklists.stored_versions(), **context), status


@bp.route("/checklists", endpoint="checklists")
def checklists_list():
    return _page()


@bp.route("/checklists/upload", methods=["POST"])
def upload_checklist():
    file = request.files.get("file")
    if file is None or not file.filename:
        return _page(422, upload_errors=[("$", _("Choose a checklist file."))])
    data = file.read(MAX_UPLOAD + 1)
    if len(data) > MAX_UPLOAD:
        return _page(413, upload_errors=[("$", _("The file is too large."))])
    try:
        checklist, inserted = checklists.upload(current_user, data, file.filename)
    except InvalidInput as error:
        db.session.rollback()
        return _page(422, upload_errors=[(where, m) for where, ms in error.fields.items() for m in ms])
    return _page(uploaded=checklist, inserted=inserted)


@bp.route("/checklists/<identifier:checklist_id>/<version>")
def checklists_preview(checklist_id, version):
    if not checklists.VERSION.fullmatch(version):
        abort(404)
    row = db.session.get(ChecklistVersion, (checklist_id, version)) or abort(404)
    checklist = checklists.Checklist(row.checklist_id, row.version, row.kind, row.definition)
    current = checklists.current_checklists().get(checklist_id)
    return render_template("admin/checklist_preview.html", checklist=checklist, definition=checklist.definition,
                           preview=True, item_widget=item_types.widget, is_required=item_types.is_required,
                           points=points_table(checklist.definition),
                           location={"id": "", "timezone": "UTC", "name": ""},
                           is_current=current is not None and current.version == row.version)
