from marshmallow import fields, validate

from .base import ID_RANGE, Output

CODE_MAX, NAME_MAX = 32, 120


class PlaceSchema(Output):
    """A region or a location, named."""

    id = fields.Integer(validate=ID_RANGE)
    code = fields.String(validate=validate.Length(max=CODE_MAX))
    name = fields.String(validate=validate.Length(max=NAME_MAX))


class LocationSchema(PlaceSchema):
    region = fields.Nested(PlaceSchema)
    address = fields.String(validate=validate.Length(max=255))
    phone = fields.String(validate=validate.Length(max=40))
    timezone = fields.String(validate=validate.Length(max=64),
                             metadata={"description": "An IANA time zone, e.g. Europe/Madrid."})


class PersonSchema(Output):
    """A user, as others see them."""

    id = fields.Integer(validate=ID_RANGE)
    email = fields.String(validate=validate.Length(max=255))
    name = fields.String(validate=validate.Length(max=NAME_MAX))
