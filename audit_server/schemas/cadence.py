"""What is due at a location (GET /api/v1/locations/<id>/due), and the locations of a
region report that are not covered (services/cadence.py, docs/cadence.md)."""
from marshmallow import fields, validate

from ..models import Location
from ..models.cadences import MAX_DAYS, MIN_DAYS
from ..services.cadence import STATES
from .base import COUNT_RANGE, Output, column_length
from .checklists import ID_MAX, KINDS, LocalisedTextSchema
from .org import PlaceSchema

CADENCE_DAYS = validate.Range(min=MIN_DAYS, max=MAX_DAYS)


class DueLocationSchema(PlaceSchema):
    timezone = fields.String(validate=column_length(Location.timezone),
                             metadata={"description": "The location's clock (an IANA time zone)."})


class DueStateSchema(Output):
    """A location's state for one checklist, on the location's clock."""

    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    kind = fields.String(validate=validate.OneOf(KINDS))
    title = fields.Nested(LocalisedTextSchema)
    cadence_days = fields.Integer(validate=CADENCE_DAYS, metadata={
        "description": "An audit is due this many days after the latest one (the region's "
                       "cadence, or the default of the checklist's kind)."})
    state = fields.String(validate=validate.OneOf(STATES), metadata={
        "description": "done: audited within the cadence (covered); due: today is the day, "
                       "or never audited; overdue: past the day it was due."})
    last_audit_date = fields.Date(allow_none=True, metadata={
        "description": "The latest audit's date on the location's clock; null: never audited."})
    days_since_last = fields.Integer(allow_none=True, validate=COUNT_RANGE, metadata={
        "description": "Whole days from the latest audit's local date to today's."})
    next_due = fields.Date(metadata={
        "description": "The latest audit's local date + cadence_days (never audited: today); "
                       "in the past when overdue."})
    overdue_days = fields.Integer(validate=COUNT_RANGE, metadata={
        "description": "Days since next_due; 0 unless overdue."})
    never_audited = fields.Boolean()


class LocationDueSchema(Output):
    location = fields.Nested(DueLocationSchema)
    today = fields.Date(metadata={"description": "Today on the location's clock."})
    checklists = fields.List(fields.Nested(DueStateSchema))


class OverdueLocationSchema(DueStateSchema):
    """A location not covered now: overdue, or never audited."""

    location = fields.Nested(DueLocationSchema)
