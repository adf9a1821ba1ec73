from marshmallow import fields, validate

from .base import Output, Schema

FIELD_MAX = 255
NAME_MAX = 120


class TokenRequestSchema(Schema):
    email = fields.String(required=True, validate=validate.Length(max=FIELD_MAX))
    password = fields.String(required=True, validate=validate.Length(max=FIELD_MAX))
    name = fields.String(validate=validate.Length(max=NAME_MAX), metadata={
        "description": "What the token is for, as its owner's token list shows it "
                       "(default: the client's User-Agent)."})


class TokenSchema(Output):
    token = fields.String(validate=validate.Length(max=64),
                          metadata={"description": "Send it as 'Authorization: Bearer <token>'."})
    expires_at = fields.AwareDateTime()


class TokenInfoSchema(Output):
    id = fields.Integer()
    name = fields.String(validate=validate.Length(max=NAME_MAX))
    created_at = fields.AwareDateTime()
    expires_at = fields.AwareDateTime()
    last_used_at = fields.AwareDateTime(allow_none=True, metadata={
        "description": "Updated at most once a minute."})
