from datetime import timezone

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from ..models.actions import STATUSES
from ..models.types import utcnow
from ..services.actions import METRIC_GROUPS, MOVES, has_after_photo
from .common import PageArgs

TEXT_MAX = 2000
# Ids are 32-bit integers in the database: larger numbers are refused, not looked up.
ID_RANGE = validate.Range(min=1, max=2**31 - 1)


class StatusList(fields.List):
    """Statuses given as repeated parameters, a comma list, or both."""

    def __init__(self, **kwargs):
        super().__init__(fields.String(validate=validate.OneOf(STATUSES)), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, str) for v in values):
            raise ValidationError("Must be statuses.")
        parts = [p.strip() for v in values for p in v.split(",") if p.strip()]
        return super()._deserialize(parts, attr, data, **kwargs)


class OwnerFilter(fields.Field):
    """A user id, or "me"."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value == "me":
            return value
        if isinstance(value, str) and value.isdigit() and int(value) <= ID_RANGE.max:
            return int(value)
        raise ValidationError('Must be a user id or "me".')


class ActionQuerySchema(PageArgs):
    status = StatusList()
    location_id = fields.Integer(validate=ID_RANGE)
    audit_id = fields.UUID()
    owner = OwnerFilter(metadata={"description": 'A user id, or "me".'})
    overdue = fields.Boolean()


class ActionChangeSchema(Schema):
    """One change: a status (with a note), an owner (with a reason), or a note alone."""

    version = fields.Integer(required=True, strict=True, validate=ID_RANGE)
    status = fields.String(validate=validate.OneOf(STATUSES))
    note = fields.String(validate=validate.Length(max=TEXT_MAX))
    owner_id = fields.Integer(strict=True, validate=ID_RANGE)
    reason = fields.String(validate=validate.Length(max=TEXT_MAX))

    @validates_schema
    def one_change(self, data, **_kwargs):
        if "status" in data and "owner_id" in data:
            raise ValidationError("Change the status or the owner, not both at once.", "owner_id")
        if "owner_id" in data and "note" in data:
            raise ValidationError("Give the reason for a reassignment as reason.", "note")
        if "reason" in data and "owner_id" not in data:
            raise ValidationError("A reason goes with a new owner_id.", "reason")


class ActionMetricsQuerySchema(Schema):
    group_by = fields.String(load_default="location", validate=validate.OneOf(METRIC_GROUPS))
    since = fields.AwareDateTime(default_timezone=timezone.utc)


def _person(user):
    return None if user is None else {"id": user.id, "email": user.email, "name": user.name}


class ActionSummarySchema(Schema):
    id = fields.Integer()
    location_id = fields.Integer()
    audit_id = fields.UUID()
    checklist_id = fields.String()
    item_id = fields.String()
    title = fields.Dict()
    critical = fields.Boolean()
    photo_required = fields.Boolean()
    has_after_photo = fields.Function(has_after_photo)
    after_photo_id = fields.UUID(allow_none=True)
    owner = fields.Function(lambda a: _person(a.owner))
    status = fields.String()
    allowed_moves = fields.Function(lambda a: list(MOVES[a.status]))
    opened_at = fields.AwareDateTime()
    due_at = fields.AwareDateTime()
    due_local = fields.Function(lambda a: a.due_local.isoformat())
    overdue = fields.Function(lambda a: a.is_overdue(utcnow()))
    closed_at = fields.AwareDateTime(allow_none=True)
    verified_at = fields.AwareDateTime(allow_none=True)
    repeat_count = fields.Integer()
    verification_proposed_by_audit_id = fields.UUID(allow_none=True)
    version = fields.Integer()


class ActionEventSchema(Schema):
    id = fields.Integer()
    at = fields.AwareDateTime()
    actor = fields.Function(lambda e: _person(e.actor))
    kind = fields.String()
    from_value = fields.String(data_key="from", allow_none=True)
    to_value = fields.String(data_key="to", allow_none=True)
    note = fields.String()
    audit_id = fields.UUID(allow_none=True)


class ActionSchema(ActionSummarySchema):
    audits = fields.Function(lambda a: [
        {"id": str(audit.id), "submitted_at": audit.submitted_at.isoformat()} for audit in a.audits
    ])
    timeline = fields.List(fields.Nested(ActionEventSchema), attribute="events")


class ActionMetricsSchema(Schema):
    group = fields.Dict()
    open = fields.Integer()
    overdue = fields.Integer()
    closed = fields.Integer()
    median_hours_to_close = fields.Float(allow_none=True)
    closed_on_time_share = fields.Float(allow_none=True)


class ActionMetricsReportSchema(Schema):
    group_by = fields.String()
    groups = fields.List(fields.Nested(ActionMetricsSchema))
