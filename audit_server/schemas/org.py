from marshmallow import fields

from ..models import Location, Region, User
from .base import ID_RANGE, Output, column_length


class PlaceSchema(Output):
    """A region or a location, named."""

    id = fields.Integer(validate=ID_RANGE)
    code = fields.String(validate=column_length(Region.code, Location.code))
    name = fields.String(validate=column_length(Region.name, Location.name))


class LocationSchema(PlaceSchema):
    region = fields.Nested(PlaceSchema)
    address = fields.String(validate=column_length(Location.address))
    phone = fields.String(validate=column_length(Location.phone))
    timezone = fields.String(validate=column_length(Location.timezone),
                             metadata={"description": "An IANA time zone, e.g. Europe/Madrid."})


class PersonSchema(Output):
    """A user, as others see them."""

    id = fields.Integer(validate=ID_RANGE)
    email = fields.String(validate=column_length(User.email))
    name = fields.String(validate=column_length(User.name))
