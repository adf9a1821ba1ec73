import json
from pathlib import Path

from marshmallow import fields, validate

from .base import Derived, Output, TextArgs

ID_MAX, VERSION_MAX = 64, 16
# What checklists/schema.json allows a checklist's kind and each of its texts to be.
_FILE_SCHEMA = json.loads((Path(__file__).resolve().parents[2] / "checklists" / "schema.json")
                          .read_text(encoding="utf-8"))
KINDS = tuple(_FILE_SCHEMA["properties"]["kind"]["enum"])
TEXT_MAX = _FILE_SCHEMA["$defs"]["text"]["properties"]["en"]["maxLength"]


class LocalisedTextSchema(Output):
    """A text in Spanish and English."""

    es = fields.String(validate=validate.Length(max=TEXT_MAX))
    en = fields.String(validate=validate.Length(max=TEXT_MAX))


class ChecklistSummarySchema(Output):
    id = fields.String(validate=validate.Length(max=ID_MAX))
    version = fields.String(validate=validate.Length(max=VERSION_MAX),
                            metadata={"description": "The hash of the checklist's content."})
    kind = fields.String(validate=validate.OneOf(KINDS))
    title = Derived(fields.Nested(LocalisedTextSchema), of=lambda c: c.definition["title"])
    timer_seconds = Derived(fields.Integer(validate=validate.Range(min=1, max=600)), allow_none=True,
                            of=lambda c: c.definition.get("timer_seconds"))


class ChecklistSchema(ChecklistSummarySchema):
    definition = fields.Dict(metadata={
        "description": "The checklist as its file says: sections of items, each with its id, "
                       "type (yes_no, rating, count, seconds, choice, text), label and rules."})


class ChecklistQuerySchema(TextArgs):
    version = fields.String(validate=validate.Length(max=VERSION_MAX))
