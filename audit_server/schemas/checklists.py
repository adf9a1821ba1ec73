from marshmallow import Schema, fields


class ChecklistSummarySchema(Schema):
    id = fields.String()
    version = fields.String()
    kind = fields.String()
    title = fields.Function(lambda c: c.definition["title"])
    timer_seconds = fields.Function(lambda c: c.definition.get("timer_seconds"))


class ChecklistSchema(ChecklistSummarySchema):
    definition = fields.Dict()


class ChecklistQuerySchema(Schema):
    version = fields.String()
