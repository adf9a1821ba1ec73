from flask import url_for
from flask_smorest.fields import Upload
from marshmallow import Schema, fields, validate

from .common import PageArgs


class PhotoUploadSchema(Schema):
    """The form fields of an upload (multipart/form-data, beside the `photo` file)."""

    id = fields.UUID(required=True)
    item_id = fields.String(load_default=None, validate=validate.Length(min=1, max=64))
    caption = fields.String(load_default="", validate=validate.Length(max=500))


class PhotoFileSchema(Schema):
    photo = Upload(required=True)


class PhotoQuerySchema(PageArgs):
    pass


def _url(size):
    return fields.Function(lambda p: url_for("photo_files.serve", photo_id=p.id, size=size))


class PhotoSchema(Schema):
    id = fields.UUID()
    location_id = fields.Integer()
    audit_id = fields.UUID(allow_none=True)
    action_id = fields.Integer(allow_none=True)
    item_id = fields.String(allow_none=True)
    caption = fields.String()
    content_type = fields.String()
    width = fields.Integer()
    height = fields.Integer()
    bytes = fields.Integer()
    captured_at = fields.AwareDateTime(allow_none=True)
    uploaded_by = fields.Integer()
    created_at = fields.AwareDateTime()
    thumb_url = _url("thumb")
    display_url = _url("display")
