from marshmallow import Schema, fields


class LocationSchema(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    region = fields.Function(lambda loc: {"id": loc.region.id, "code": loc.region.code,
                                          "name": loc.region.name})
    address = fields.String()
    phone = fields.String()
    timezone = fields.String()
