"""Serving photo renditions: /photos/<photo id>/<thumb|display>, for users who may see them.

Blobs never change (their name is their content hash), so responses are cached
privately for a year and revalidated by ETag. Scope is checked first; then the blob is
streamed from the store in chunks (never read whole), with its Content-Length. While
the store does not answer, the answer is a 503 with Retry-After and a sentence saying so.
"""
from flask import Blueprint, Response, abort, request
from flask_babel import _
from flask_login import current_user

from .services.errors import StoreUnavailable
from .services.photos import visible_photo
from .storage import photo_store

bp = Blueprint("photo_files", __name__, url_prefix="/photos")


@bp.route("/<uuid:photo_id>/<any(thumb, display):size>")
def serve(photo_id, size):
    if not current_user.is_authenticated:
        abort(401)
    photo = visible_photo(current_user, photo_id)
    name = photo.blob(size)
    if name in request.if_none_match:
        response = Response(status=304)
    else:
        try:
            blob = photo_store().open(name)
        except FileNotFoundError:
            abort(404)
        except StoreUnavailable as exc:
            message = _("Photos cannot be shown right now: the photo store does not answer. "
                        "Try again in a minute.")
            return Response(message, 503, exc.headers, mimetype="text/plain")
        response = Response(blob, mimetype=photo.content_type, direct_passthrough=True)
        response.content_length = blob.size
    response.set_etag(name)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
