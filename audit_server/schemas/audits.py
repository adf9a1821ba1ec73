from datetime import timezone

from flask import url_for
from marshmallow import ValidationError, fields, validate

from ..models.actions import STATUSES
from .base import ID_RANGE, TEXT_MAX, Derived, Output, Schema, StorableText, is_number
from .checklists import ID_MAX, VERSION_MAX, LocalisedTextSchema
from .common import PageArgs
from .org import PersonSchema
from .photos import PhotoSchema

COMMENT_MAX = 1000
NOTES_MAX = 5000


class AnswerValue(fields.Field):
    """An answer's value, as JSON has it: true or false, a number, text, or "na" (not
    applicable). Which of these an item takes is its type's rule (the checklist's)."""

    ERROR = 'Must be true or false, a number, text or "na".'

    def __init__(self, **kwargs):
        super().__init__(metadata={
            "description": 'true or false (yes/no items), a number (ratings, counts, seconds), '
                           'text (text items, choice values), or "na" where the item allows '
                           "it. The checklist's items say which.",
            "anyOf": [{"type": "boolean"}, {"type": "number"},
                      {"type": "string", "maxLength": TEXT_MAX, "pattern": StorableText.PATTERN}],
        }, **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if _is_answer_value(value):
            return value
        if isinstance(value, str):  # text, but too long or not storable: say which
            validate.Length(max=TEXT_MAX)(value)
            StorableText()(value)
        raise ValidationError(self.ERROR)


class AnswerSchema(Schema):
    value = AnswerValue(required=True)
    comment = fields.String(validate=validate.Length(max=COMMENT_MAX))


def _is_text(value, max_length):
    return isinstance(value, str) and len(value) <= max_length and StorableText.allows(value)


def _is_answer_value(value):
    """The rule of AnswerValue: true or false, a number, or storable text within TEXT_MAX."""
    return isinstance(value, bool) or is_number(value) or _is_text(value, TEXT_MAX)


ANSWER_KEYS = frozenset(AnswerSchema._declared_fields)


def plainly_valid(answers):
    """Whether `answers` is a mapping that the fields of Answers accept as it is: what
    nearly every submission is, checked here in one pass (marshmallow's field by field
    load of 16 answers costs more than the rest of the submission's parsing)."""
    if not isinstance(answers, dict):
        return False
    for key, answer in answers.items():
        if not (_is_text(key, ID_MAX) and key and isinstance(answer, dict)
                and "value" in answer and answer.keys() <= ANSWER_KEYS
                and _is_answer_value(answer["value"])
                and ("comment" not in answer or _is_text(answer["comment"], COMMENT_MAX))):
            return False
    return True


class Answers(fields.Dict):
    """{item id: answer}. Errors are named by item: answers.<item id>[.comment].

    What the fields accept unchanged is taken as it is (see plainly_valid); anything
    else goes through them, which name each problem."""

    def __init__(self, answer_schema, **kwargs):
        super().__init__(keys=fields.String(validate=validate.Length(min=1, max=ID_MAX)),
                         values=fields.Nested(answer_schema), **kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        if plainly_valid(value):
            return {key: dict(answer) for key, answer in value.items()}
        try:
            return super()._deserialize(value, attr, data, **kwargs)
        except ValidationError as error:
            if not isinstance(error.messages, dict):
                raise
            raise ValidationError({key: problem.get("key") or problem.get("value")
                                   for key, problem in error.messages.items()}) from None


EXAMPLE_SUBMISSION = {
    "id": "0b6f3c52-5d0e-4c7e-9a7b-2f4f1f7d9a10",
    "location_id": 1,
    "checklist_id": "five_second_walk_in",
    "started_at": "2026-11-20T09:12:00+01:00",
    "submitted_at": "2026-11-20T09:15:30+01:00",
    "answers": {
        "first_noticed": {"value": "A wet floor by the door"},
        "greeted_within_5s": {"value": True}, "smile": {"value": True},
        "staff_available": {"value": True},
        "floor_clean": {"value": False, "comment": "Puddle by the mat, no sign"},
        "entrance_clear": {"value": True}, "lighting_signage": {"value": True},
        "queue_managed": {"value": "na"}, "smell_noise": {"value": True},
        "overall_impression": {"value": 4},
    },
    "notes": "Rainy morning.",
}


class AuditSubmissionSchema(Schema):
    id = fields.UUID(required=True, metadata={
        "description": "Made by the client: sending the same audit again returns the stored one."})
    location_id = fields.Integer(required=True, validate=ID_RANGE)
    checklist_id = fields.String(required=True, validate=validate.Length(max=ID_MAX))
    checklist_version = fields.String(load_default=None, validate=validate.Length(max=VERSION_MAX),
                                      metadata={"description": "Default: the current version."})
    started_at = fields.AwareDateTime(required=True)
    submitted_at = fields.AwareDateTime(required=True)
    # Checked against the checklist's items by the service.
    answers = Answers(AnswerSchema, required=True, metadata={
        "description": "The answer to each item, by item id (see GET /api/v1/checklists/{id}). "
                       "Items that do not apply need none."})
    notes = fields.String(load_default="", validate=validate.Length(max=NOTES_MAX))


class AuditQuerySchema(PageArgs):
    location_id = fields.Integer(validate=ID_RANGE)
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    since = fields.AwareDateTime(default_timezone=timezone.utc)
    until = fields.AwareDateTime(default_timezone=timezone.utc)


POINTS = validate.Range(min=0)
PERCENT = validate.Range(min=0, max=100)


class SectionScoreSchema(Output):
    id = fields.String(validate=validate.Length(max=ID_MAX))
    points = fields.Float(validate=POINTS)
    max_points = fields.Float(validate=POINTS)
    percent = fields.Float(allow_none=True, validate=PERCENT)


class ScoreSchema(Output):
    percent = fields.Float(attribute="score_percent", allow_none=True, validate=PERCENT, metadata={
        "description": "null when nothing was scored."})
    points = fields.Float(validate=POINTS)
    max_points = fields.Float(validate=POINTS)
    critical_failed = fields.Boolean()
    failed_items = fields.List(fields.String(validate=validate.Length(max=ID_MAX)))
    sections = fields.List(fields.Nested(SectionScoreSchema))


class AnswerResultSchema(Output):
    """An answer as stored, with what it scored."""

    value = AnswerValue(allow_none=True)
    comment = fields.String(validate=validate.Length(max=COMMENT_MAX))
    applies = fields.Boolean(metadata={"description": "false when the item's condition was not met."})
    points = fields.Float(allow_none=True, validate=POINTS)
    max_points = fields.Float(allow_none=True, validate=POINTS)
    failed = fields.Boolean()
    photo_missing = fields.Boolean(metadata={
        "description": "Failed, its checklist asks for a photo, and none is attached yet."})


def _answers(audit):
    missing = set(audit.photos_missing)
    return {
        item_id: {"value": x["value"], "comment": x["comment"], "applies": x["applies"],
                  "points": x["points"], "max_points": x["max_points"], "failed": x["failed"],
                  "photo_missing": item_id in missing}
        for item_id, x in audit.answers_in_order()
    }


LINKS = ("opened", "linked")


class AuditActionSchema(Output):
    """A corrective action an audit opened or was linked to."""

    id = fields.Integer(validate=ID_RANGE)
    item_id = fields.String(validate=validate.Length(max=ID_MAX))
    status = fields.String(validate=validate.OneOf(STATUSES))
    link = fields.String(validate=validate.OneOf(LINKS), metadata={
        "description": "opened: this audit opened it; linked: the item failed again while "
                       "this action was still open, and the audit was linked to it."})
    title = fields.Nested(LocalisedTextSchema, metadata={"description": "What is to be done."})
    owner = fields.Nested(PersonSchema)
    due_at = fields.AwareDateTime()
    due_local = fields.AwareDateTime(metadata={"description": "due_at on the location's clock."})
    url = fields.String(validate=validate.Length(max=200), metadata={
        "description": "The action's page."})


def _actions(audit):
    return [{"id": a.id, "item_id": a.item_id, "status": a.status,
             "link": "opened" if a.audit_id == audit.id else "linked", "title": a.title,
             "owner": a.owner, "due_at": a.due_at, "due_local": a.due_local,
             "url": url_for("web.action", action_id=a.id)} for a in audit.actions]


class PreviousAuditSchema(Output):
    """The audit of the same checklist at the same location just before this one."""

    id = fields.UUID()
    submitted_at = fields.AwareDateTime()
    score_percent = fields.Float(allow_none=True, validate=PERCENT, metadata={
        "description": "null when nothing was scored."})


class AuditSchema(Output):
    id = fields.UUID()
    location_id = fields.Integer(validate=ID_RANGE)
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    checklist_version = fields.String(validate=validate.Length(max=VERSION_MAX))
    auditor_id = fields.Integer(validate=ID_RANGE)
    started_at = fields.AwareDateTime()
    submitted_at = fields.AwareDateTime()
    received_at = fields.AwareDateTime()
    notes = fields.String(validate=validate.Length(max=NOTES_MAX))
    answers = Derived(fields.Dict(keys=fields.String(validate=validate.Length(max=ID_MAX)),
                                  values=fields.Nested(AnswerResultSchema)), of=_answers, as_is=True,
                      metadata={"description": "By item id, in the checklist's order."})
    score = Derived(fields.Nested(ScoreSchema), of=lambda audit: audit)
    photos = fields.List(fields.Nested(PhotoSchema))
    photos_missing = fields.List(fields.String(validate=validate.Length(max=ID_MAX)), metadata={
        "description": "Failed items whose checklist asks for a photo that have none attached yet."})
    actions = Derived(fields.List(fields.Nested(AuditActionSchema)), of=_actions, metadata={
        "description": "The corrective actions this audit opened or was linked to."})
    url = Derived(fields.String(validate=validate.Length(max=200)),
                  of=lambda audit: url_for("web.audit", audit_id=audit.id),
                  metadata={"description": "The audit's page."})

    previous = fields.Nested(PreviousAuditSchema, allow_none=True, metadata={
        "description": "Only in the answers of POST /audits and GET /audits/{id}: the audit of "
                       "the same checklist at the same location submitted just before this one, "
                       "or null for the first one there. The same on a replay."})
