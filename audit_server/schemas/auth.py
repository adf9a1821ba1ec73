from marshmallow import Schema, fields


class TokenRequestSchema(Schema):
    email = fields.String(required=True)
    password = fields.String(required=True)


class TokenSchema(Schema):
    token = fields.String()
    expires_at = fields.AwareDateTime()
