"""What the export endpoints read: the report's query (a period, a checklist, a clock),
and a region or a location."""
from marshmallow import fields, validate

from ..services.org import CODE, CODE_MAX
from .base import ID_RANGE
from .reports import ReportQuerySchema


class ExportQuerySchema(ReportQuerySchema):
    to = fields.Date(metadata={
        "description": "The last day of the period, included (with from); any length."})
    region = fields.String(validate=[validate.Length(max=CODE_MAX), validate.Regexp(CODE.pattern)],
                           metadata={"description": "Only this region's locations (its code)."})
    location_id = fields.Integer(validate=ID_RANGE, metadata={"description": "Only this location."})
