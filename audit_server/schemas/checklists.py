from marshmallow import fields, validate

from ..models import ChecklistVersion
from ..services.checklists import file_schema
from .base import Derived, Output, TextArgs

# What checklists/schema.json allows a checklist's kind, its timer, its identifiers (of
# checklists, sections, items and options) and each of its texts (labels, titles) to be.
KINDS = tuple(file_schema()["properties"]["kind"]["enum"])
_TIMER = file_schema()["properties"]["timer_seconds"]
TIMER_SECONDS = validate.Range(min=_TIMER["minimum"], max=_TIMER["maximum"])
IDENTIFIER = file_schema()["$defs"]["identifier"]
ID_MAX = IDENTIFIER["maxLength"]
LABEL_MAX = file_schema()["$defs"]["text"]["properties"]["en"]["maxLength"]
VERSION_MAX = ChecklistVersion.version.type.length


class LocalisedTextSchema(Output):
    """A text in Spanish and English."""

    es = fields.String(validate=validate.Length(max=LABEL_MAX))
    en = fields.String(validate=validate.Length(max=LABEL_MAX))


class ChecklistSummarySchema(Output):
    id = fields.String(validate=validate.Length(max=ID_MAX))
    version = fields.String(validate=validate.Length(max=VERSION_MAX),
                            metadata={"description": "The hash of the checklist's content."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    title = Derived(fields.Nested(LocalisedTextSchema), of=lambda c: c.definition["title"])
    timer_seconds = Derived(fields.Integer(validate=TIMER_SECONDS), allow_none=True,
                            of=lambda c: c.definition.get("timer_seconds"))


class ChecklistSchema(ChecklistSummarySchema):
    definition = fields.Dict(metadata={
        "description": "The checklist as its file says: sections of items, each with its id, "
                       "type (yes_no, rating, count, seconds, choice, text), label and rules, and "
                       "on scored items `guidance` (what good looks like) and `action_title` (the "
                       "fix as a task, the title of the action a failure opens), each {es, en}."})


class ChecklistQuerySchema(TextArgs):
    version = fields.String(validate=validate.Length(max=VERSION_MAX))
