"""Serving photo renditions: /photos/<photo id>/<thumb|display>, for users who may see them.

Blobs never change (their name is their content hash), so responses are cached
privately for a year and revalidated by ETag.
"""
from flask import Blueprint, Response, abort, request
from flask_login import current_user

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
            response = Response(photo_store().get(name), mimetype=photo.content_type)
        except FileNotFoundError:
            abort(404)
    response.set_etag(name)
    response.headers["Cache-Control"] = "private, max-age=31536000, immutable"
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response
