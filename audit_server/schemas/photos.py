from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import ValidationError, fields, validate
from werkzeug.datastructures import FileStorage

from ..models import Photo
from ..services.photos import FORMAT_NAMES
from .base import COUNT_RANGE, ID_RANGE, INT_MAX, Derived, Output, TextArgs, column_length
from .checklists import ID_MAX
from .common import PageArgs

CAPTION_MAX = 500


class PhotoFile(Upload):
    """A file part of a multipart body (a text field of the same name is not a photo)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, FileStorage):
            raise ValidationError("Must be a file.")
        return value


class ActionPhotoUploadSchema(TextArgs):
    """An upload as multipart/form-data: the file in `photo`, beside its form fields."""

    photo = PhotoFile(required=True, metadata={
        "description": f"The image: {FORMAT_NAMES}, judged by its content."})
    id = fields.UUID(required=True, metadata={
        "description": "Made by the client: sending the same photo again is harmless."})
    caption = fields.String(load_default="", validate=validate.Length(max=CAPTION_MAX))


class AuditPhotoUploadSchema(ActionPhotoUploadSchema):
    item_id = fields.String(validate=validate.Length(min=1, max=ID_MAX), metadata={
        "description": "The checklist item the photo documents, if any."})


class PhotoQuerySchema(PageArgs):
    pass


def _url(size):
    return Derived(fields.String(), of=lambda p: url_for("photo_files.serve", photo_id=p.id, size=size))


class PhotoSchema(Output):
    id = fields.UUID()
    location_id = fields.Integer(validate=ID_RANGE)
    audit_id = fields.UUID(allow_none=True)
    action_id = fields.Integer(allow_none=True, validate=ID_RANGE)
    item_id = fields.String(allow_none=True, validate=validate.Length(max=ID_MAX))
    caption = fields.String(validate=validate.Length(max=CAPTION_MAX))
    content_type = fields.String(validate=column_length(Photo.content_type),
                                 metadata={"description": "Of the renditions: image/jpeg or image/webp."})
    width = fields.Integer(validate=validate.Range(min=1, max=INT_MAX))
    height = fields.Integer(validate=validate.Range(min=1, max=INT_MAX))
    bytes = fields.Integer(validate=COUNT_RANGE, metadata={"description": "Of the original upload."})
    captured_at = fields.AwareDateTime(allow_none=True)
    uploaded_by = fields.Integer(validate=ID_RANGE)
    created_at = fields.AwareDateTime()
    thumb_url = _url("thumb")
    display_url = _url("display")
