"""The shape of every error the API answers (api/errors.py writes it)."""
from marshmallow import fields, validate

from .base import Output

MESSAGE_MAX = 1000


class ErrorDetailSchema(Output):
    code = fields.String(validate=validate.Length(max=64), metadata={
        "description": "What went wrong, for programs: validation_error, not_found, conflict, ...",
        "example": "validation_error"})
    message = fields.String(validate=validate.Length(max=MESSAGE_MAX), metadata={
        "description": "What went wrong, for people (English)."})
    field_messages = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.String(validate=validate.Length(max=MESSAGE_MAX))),
        data_key="fields", attribute="fields", metadata={
            "description": "The messages for each field at fault, by its path in the request "
                           '(e.g. "answers.smile.comment"); {} when no field is.',
            "example": {"answers.rings_to_answer": ["Must be between 0 and 100."]}})


class ErrorSchema(Output):
    """{"error": {"code", "message", "fields"}}"""

    error = fields.Nested(ErrorDetailSchema)
