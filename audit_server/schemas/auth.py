from marshmallow import fields, validate

from .base import Output, Schema

FIELD_MAX = 255


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=FIELD_MAX))
    password = fields.String(required=True, validate=validate.Length(max=FIELD_MAX))


class TokenSchema(Output):
    token = fields.String(validate=validate.Length(max=64),
                          metadata={"description": "Send it as 'Authorization: Bearer <token>'."})
    expires_at = fields.AwareDateTime()
