from functools import partial

from flask_login import current_user

from ..schemas.common import page_of, paginated
from ..schemas.photos import ActionPhotoUploadSchema, AuditPhotoUploadSchema, PhotoQuerySchema, PhotoSchema
from ..services import actions, audits
from ..services.photos import FORMAT_NAMES
from . import resource_blueprint

blp = resource_blueprint("audit_photos", __name__, "/audits", description="Photo evidence",
                         body="multipart", body_limit="PHOTO_MAX_BYTES")
action_blp = resource_blueprint("action_photos", __name__, "/actions",
                                description="Photos of corrective actions",
                                body="multipart", body_limit="PHOTO_MAX_BYTES")


def photo_upload(blueprint, form_schema):
    """The form, the file and the answers of an idempotent photo upload endpoint."""
    decorators = (
        blueprint.arguments(form_schema, location="multipart"),
        blueprint.response(201, PhotoSchema),
        blueprint.alt_response(200, schema=PhotoSchema, description="The same photo was already stored."),
        blueprint.error(409, "This id was used for a photo with other content."),
        blueprint.error(413, "The photo is too large."),
        blueprint.error(415, f"Not a {FORMAT_NAMES} image."),
        blueprint.error(422, "A field is not valid, or the image is damaged or has too many pixels."),
        blueprint.unavailable("The server is busy with other photos, or its photo store does "
                              "not answer: send it again after Retry-After seconds."),
    )

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view
    return decorate


@blp.route("/<uuid:audit_id>/photos", methods=["POST"])
@photo_upload(blp, AuditPhotoUploadSchema())
def upload(form, audit_id):
    """Attach a photo to an audit (JPEG, PNG, WebP or HEIC; judged by content).
    Safe to retry: the client's id makes it idempotent."""
    photo, created = audits.add_audit_photo(
        current_user, audit_id, form["id"], form["photo"].stream,
        item_id=form.get("item_id"), caption=form["caption"],
    )
    return photo, 201 if created else 200


@blp.route("/<uuid:audit_id>/photos")
@blp.arguments(PhotoQuerySchema(), location="query")
@blp.response(200, page_of(PhotoSchema))
def list_photos(args, audit_id):
    """An audit's photos, oldest first."""
    return paginated(partial(audits.list_audit_photos, current_user, audit_id), args)


@action_blp.route("/<id:action_id>/photos", methods=["POST"])
@photo_upload(action_blp, ActionPhotoUploadSchema())
def upload_after_photo(form, action_id):
    """Attach the "after" photo that shows a corrective action's fix. Safe to retry."""
    photo, created = actions.add_action_photo(
        current_user, action_id, form["id"], form["photo"].stream, caption=form["caption"])
    return photo, 201 if created else 200
