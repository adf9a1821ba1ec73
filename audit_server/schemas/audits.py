from datetime import timezone

from marshmallow import Schema, fields, validate

from .common import PageArgs
from .photos import PhotoSchema


class AuditSubmissionSchema(Schema):
    id = fields.UUID(required=True)
    location_id = fields.Integer(required=True, strict=True)
    checklist_id = fields.String(required=True, validate=validate.Length(max=64))
    checklist_version = fields.String(load_default=None, validate=validate.Length(max=16))
    started_at = fields.AwareDateTime(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    # {item_id: {"value": ..., "comment": "..."}}, checked against the checklist by the
    # service (JSON object keys are strings already; each value is checked there).
    answers = fields.Dict(required=True)
    notes = fields.String(load_default="", validate=validate.Length(max=5000))


class AuditQuerySchema(PageArgs):
    location_id = fields.Integer()
    checklist_id = fields.String()
    since = fields.AwareDateTime(default_timezone=timezone.utc)
    until = fields.AwareDateTime(default_timezone=timezone.utc)


class SectionScoreSchema(Schema):
    id = fields.String()
    points = fields.Float()
    max_points = fields.Float()
    percent = fields.Float(allow_none=True)


class ScoreSchema(Schema):
    percent = fields.Float(attribute="score_percent", allow_none=True)
    points = fields.Float()
    max_points = fields.Float()
    critical_failed = fields.Boolean()
    failed_items = fields.List(fields.String())
    sections = fields.List(fields.Nested(SectionScoreSchema))


_score_schema = ScoreSchema()


def _answers(audit):
    missing = set(audit.photos_missing)
    return {
        item_id: {"value": x["value"], "comment": x["comment"], "applies": x["applies"],
                  "points": x["points"], "max_points": x["max_points"], "failed": x["failed"],
                  "photo_missing": item_id in missing}
        for item_id, x in audit.answers_in_order()
    }


class AuditSchema(Schema):
    id = fields.UUID()
    location_id = fields.Integer()
    checklist_id = fields.String()
    checklist_version = fields.String()
    auditor_id = fields.Integer()
    started_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    notes = fields.String()
    answers = fields.Function(_answers)
    score = fields.Function(lambda a: _score_schema.dump(a))
    photos = fields.List(fields.Nested(PhotoSchema))
    # Failed items whose checklist asks for a photo and that have none attached yet.
    photos_missing = fields.List(fields.String())
    # The corrective actions this audit opened or was linked to.
    actions = fields.Function(lambda a: [
        {"id": x.id, "item_id": x.item_id, "status": x.status} for x in a.actions
    ])
