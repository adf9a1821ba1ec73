from functools import partial

from flask_login import current_user

from ..schemas.common import page_of, paginated
from ..schemas.photos import PhotoFileSchema, PhotoQuerySchema, PhotoSchema, PhotoUploadSchema
from ..services import actions, audits
from ..services.errors import InvalidInput
from . import resource_blueprint

blp = resource_blueprint("audit_photos", __name__, "/audits", description="Photo evidence",
                         body="multipart", body_limit="PHOTO_MAX_BYTES")
action_blp = resource_blueprint("action_photos", __name__, "/actions",
                                description="Photos of corrective actions",
                                body="multipart", body_limit="PHOTO_MAX_BYTES")


def photo_upload(blueprint):
    """The form, the file and the answers of an idempotent photo upload endpoint."""
    decorators = (
        blueprint.arguments(PhotoUploadSchema(), location="form"),
        blueprint.arguments(PhotoFileSchema(), location="files"),
        blueprint.response(201, PhotoSchema),
        blueprint.alt_response(200, schema=PhotoSchema, description="The same photo was already stored."),
        blueprint.alt_response(409, description="This id was used for a photo with other content."),
        blueprint.alt_response(413, description="The photo is too large."),
        blueprint.alt_response(415, description="Not a JPEG, PNG, WebP or HEIC image."),
    )

    def decorate(view):
        for decorator in reversed(decorators):
            view = decorator(view)
        return view
    return decorate


@blp.route("/<uuid:audit_id>/photos", methods=["POST"])
@photo_upload(blp)
def upload(form, files, audit_id):
    """Attach a photo to an audit (JPEG, PNG, WebP or HEIC; judged by content).
    Safe to retry: the client's id makes it idempotent."""
    photo, created = audits.add_audit_photo(
        current_user, audit_id, form["id"], files["photo"].stream,
        item_id=form["item_id"], caption=form["caption"],
    )
    return photo, 201 if created else 200


@blp.route("/<uuid:audit_id>/photos")
@blp.arguments(PhotoQuerySchema(), location="query")
@blp.response(200, page_of(PhotoSchema))
def list_photos(args, audit_id):
    """An audit's photos, oldest first."""
    return paginated(partial(audits.list_audit_photos, current_user, audit_id), args)


@action_blp.route("/<int(max=2147483647):action_id>/photos", methods=["POST"])
@photo_upload(action_blp)
def upload_after_photo(form, files, action_id):
    """Attach the "after" photo that shows a corrective action's fix. Safe to retry."""
    if form["item_id"] is not None:
        message = "An action's photo documents the action's own item: send no item_id."
        raise InvalidInput(message, {"item_id": [message]})
    photo, created = actions.add_action_photo(
        current_user, action_id, form["id"], files["photo"].stream, caption=form["caption"])
    return photo, 201 if created else 200
