from datetime import timezone

from marshmallow import ValidationError, fields, validate, validates_schema

from ..models.actions import EVENT_KINDS, STATUSES, ActionEvent
from ..models.types import utcnow
from ..services.actions import has_after_photo
from ..services.reports import METRIC_GROUPS
from .base import COUNT_RANGE, ID_RANGE, TEXT_MAX, Derived, Output, Schema, TextArgs, column_length
from .checklists import ID_MAX, LocalisedTextSchema
from .common import PageArgs
from .org import PersonSchema, PlaceSchema

STATUS = validate.OneOf(STATUSES)


class StatusList(fields.List):
    """Statuses given as repeated parameters, comma lists (status=open,done), or both."""

    ONE = "(" + "|".join(STATUSES) + ")"
    COMMA_LIST = validate.Regexp(f"^{ONE}(,{ONE})*$", error=(
        "Must be statuses (" + ", ".join(STATUSES) + "), separated by commas."))
    # A query string stays short: at most as many parameters as there are statuses,
    # each at most as long as all of them.
    PARAMETERS = validate.Length(max=len(STATUSES))
    LONGEST = validate.Length(max=len(",".join(STATUSES)))

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=[self.COMMA_LIST, self.LONGEST]),
                         validate=self.PARAMETERS, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        comma_lists = self.PARAMETERS(super()._deserialize(value, attr, data, **kwargs))
        return list(dict.fromkeys(s for comma_list in comma_lists for s in comma_list.split(",")))


class OwnerFilter(fields.Field):
    """A user id, or "me"."""

    def __init__(self, **kwargs):
        super().__init__(metadata={"description": 'A user id, or "me".', "anyOf": [
            {"type": "integer", "minimum": ID_RANGE.min, "maximum": ID_RANGE.max},
            {"type": "string", "enum": ["me"]},
        ]}, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "me":
            return value
        if isinstance(value, str) and value.isdecimal() and value.isascii():
            try:
                return ID_RANGE(int(value))
            except ValidationError:
                pass
        raise ValidationError('Must be a user id or "me".')


class ActionQuerySchema(PageArgs):
    status = StatusList()
    location_id = fields.Integer(validate=ID_RANGE)
    audit_id = fields.UUID()
    owner = OwnerFilter()
    overdue = fields.Boolean()


class ActionChangeSchema(Schema):
    """One change: a status (with a note), an owner (with a reason), or a note alone."""

    version = fields.Integer(required=True, validate=ID_RANGE, metadata={
        "description": "The version of the action you read: if it changed since, 409."})
    status = fields.String(validate=STATUS)
    note = fields.String(validate=validate.Length(max=TEXT_MAX))
    owner_id = fields.Integer(validate=ID_RANGE)
    reason = fields.String(validate=validate.Length(max=TEXT_MAX))

    @validates_schema
    def one_change(self, data, **_kwargs):
        if "status" in data and "owner_id" in data:
            raise ValidationError("Change the status or the owner, not both at once.", "owner_id")
        if "owner_id" in data and "note" in data:
            raise ValidationError("Give the reason for a reassignment as reason.", "note")
        if "reason" in data and "owner_id" not in data:
            raise ValidationError("A reason goes with a new owner_id.", "reason")


class ActionMetricsQuerySchema(TextArgs):
    group_by = fields.String(load_default="location", validate=validate.OneOf(METRIC_GROUPS))
    since = fields.AwareDateTime(default_timezone=timezone.utc)


class ActionSummarySchema(Output):
    id = fields.Integer(validate=ID_RANGE)
    location_id = fields.Integer(validate=ID_RANGE)
    audit_id = fields.UUID(metadata={"description": "The audit that found the failure."})
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    item_id = fields.String(validate=validate.Length(max=ID_MAX))
    title = fields.Nested(LocalisedTextSchema, metadata={"description": "The item's label."})
    critical = fields.Boolean()
    photo_required = fields.Boolean(metadata={"description": 'Done needs an "after" photo.'})
    has_after_photo = Derived(fields.Boolean(), of=has_after_photo)
    after_photo_id = fields.UUID(allow_none=True)
    owner = fields.Nested(PersonSchema)
    status = fields.String(validate=STATUS)
    allowed_moves = fields.List(fields.String(validate=STATUS), metadata={
        "description": "The statuses you may move the action to now."})
    opened_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    due_local = fields.AwareDateTime(metadata={"description": "due_at on the location's clock."})
    overdue = Derived(fields.Boolean(), of=lambda action: action.is_overdue(utcnow()))
    closed_at = fields.AwareDateTime(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    repeat_count = fields.Integer(validate=COUNT_RANGE)
    verification_proposed_by_audit_id = fields.UUID(allow_none=True)
    version = fields.Integer(validate=ID_RANGE)


class ActionEventSchema(Output):
    id = fields.Integer(validate=ID_RANGE)
    at = fields.AwareDateTime()
    actor = fields.Nested(PersonSchema, allow_none=True)
    kind = fields.String(validate=validate.OneOf(EVENT_KINDS))
    from_value = fields.String(data_key="from", allow_none=True,
                               validate=column_length(ActionEvent.from_value))
    to_value = fields.String(data_key="to", allow_none=True,
                             validate=column_length(ActionEvent.to_value))
    note = fields.String(validate=validate.Length(max=TEXT_MAX))
    audit_id = fields.UUID(allow_none=True)


class LinkedAuditSchema(Output):
    id = fields.UUID()
    submitted_at = fields.AwareDateTime()


class ActionSchema(ActionSummarySchema):
    audits = fields.List(fields.Nested(LinkedAuditSchema), metadata={
        "description": "The audits that found the failure, oldest first."})
    timeline = fields.List(fields.Nested(ActionEventSchema), attribute="events")


class ActionMetricsSchema(Output):
    group = fields.Nested(PlaceSchema, metadata={"description": "The location or region."})
    open = fields.Integer(validate=COUNT_RANGE)
    overdue = fields.Integer(validate=COUNT_RANGE)
    closed = fields.Integer(validate=COUNT_RANGE)
    median_hours_to_close = fields.Float(allow_none=True, validate=validate.Range(min=0))
    closed_on_time_share = fields.Float(allow_none=True, validate=validate.Range(min=0, max=1))


class ActionMetricsReportSchema(Output):
    group_by = fields.String(validate=validate.OneOf(METRIC_GROUPS))
    groups = fields.List(fields.Nested(ActionMetricsSchema))
