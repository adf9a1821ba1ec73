"""What the report endpoints read (a period, a checklist, a clock) and write (every
figure of docs/reports.md, each beside its previous-period value)."""
from marshmallow import ValidationError, fields, validate

from ..models import Location
from ..services.org import is_time_zone
from ..services.reports import PRESETS, TIME_ZONE_ERROR
from .audits import COMMENT_MAX
from .base import COUNT_RANGE, ID_RANGE, INT_MAX, Output, TextArgs, column_length
from .cadence import CADENCE_DAYS, OverdueLocationSchema
from .checklists import ID_MAX, IDENTIFIER, KINDS, LocalisedTextSchema
from .common import PageArgs
from .org import PlaceSchema

PERCENT = validate.Range(min=0, max=100)
PERCENT_CHANGE = validate.Range(min=-100, max=100)
CHANGE = validate.Range(min=-INT_MAX, max=INT_MAX)
NOT_NEGATIVE = validate.Range(min=0)
CHECKLIST_ID = [validate.Length(max=ID_MAX), validate.Regexp(IDENTIFIER["pattern"])]


def time_zone(name):
    if not is_time_zone(name):
        raise ValidationError(TIME_ZONE_ERROR)
    return name


class PeriodArgs(TextArgs):
    """A period (a preset, or from and to: dates on the viewer's clock, both included)
    and the viewer's clock."""

    period = fields.String(validate=validate.OneOf(PRESETS), metadata={
        "description": "A preset period ending now (default last_30_days); not with from/to."})
    from_ = fields.Date(data_key="from", metadata={
        "description": "The first day of the period, on the viewer's clock (with to)."})
    to = fields.Date(metadata={
        "description": "The last day of the period, included (with from); at most 400 days."})
    tz = fields.String(validate=[column_length(Location.timezone), time_zone], metadata={
        "description": "The viewer's clock, an IANA time zone (default: the zone most of the "
                       "report's locations use)."})


class ReportQuerySchema(PeriodArgs):
    checklist_id = fields.String(validate=CHECKLIST_ID, metadata={
        "description": "Only this checklist's audits (and its actions)."})


class FailedItemQuerySchema(PeriodArgs, PageArgs):
    pass


class CountFigureSchema(Output):
    """A count in the period, in the previous period, and the change."""

    value = fields.Integer(validate=COUNT_RANGE)
    previous = fields.Integer(validate=COUNT_RANGE)
    change = fields.Integer(validate=CHANGE)


class PercentFigureSchema(Output):
    """A percentage (0-100, one decimal) in the period, in the previous period, and the change
    in points; null when there is nothing to divide."""

    value = fields.Float(allow_none=True, validate=PERCENT)
    previous = fields.Float(allow_none=True, validate=PERCENT)
    change = fields.Float(allow_none=True, validate=PERCENT_CHANGE)


class HoursFigureSchema(Output):
    """Hours (one decimal) in the period, in the previous period, and the change."""

    value = fields.Float(allow_none=True, validate=NOT_NEGATIVE)
    previous = fields.Float(allow_none=True, validate=NOT_NEGATIVE)
    change = fields.Float(allow_none=True)


class WholeFigureSchema(Output):
    """A median as a whole number (rings, seconds), in the period, in the previous period,
    and the change."""

    value = fields.Integer(allow_none=True, validate=COUNT_RANGE)
    previous = fields.Integer(allow_none=True, validate=COUNT_RANGE)
    change = fields.Integer(allow_none=True, validate=CHANGE)


class ReportPeriodSchema(Output):
    preset = fields.String(allow_none=True, validate=validate.OneOf(PRESETS))
    from_ = fields.AwareDateTime(data_key="from", attribute="from",
                                 metadata={"description": "The first instant, included (UTC)."})
    to = fields.AwareDateTime(metadata={"description": "The end, excluded (UTC)."})
    timezone = fields.String(validate=column_length(Location.timezone),
                             metadata={"description": "The viewer's clock the period was read on."})


class PreviousPeriodSchema(Output):
    from_ = fields.AwareDateTime(data_key="from", attribute="from")
    to = fields.AwareDateTime()


class ReportChecklistSchema(Output):
    id = fields.String(validate=validate.Length(max=ID_MAX))
    kind = fields.String(validate=validate.OneOf(KINDS))
    title = fields.Nested(LocalisedTextSchema)


class ChecklistScoreSchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    score = fields.Nested(PercentFigureSchema, metadata={"description": "The mean of the audits' scores."})
    audits = fields.Nested(CountFigureSchema)


class ReportActionsSchema(Output):
    open = fields.Integer(validate=COUNT_RANGE, metadata={"description": "Open now."})
    overdue = fields.Integer(validate=COUNT_RANGE, metadata={"description": "Open and past due now."})
    closed = fields.Nested(CountFigureSchema, metadata={
        "description": "Actions whose first move to done falls in the period."})
    median_hours_to_close = fields.Nested(HoursFigureSchema)
    closed_on_time = fields.Nested(PercentFigureSchema)


class SummarySchema(Output):
    audits = fields.Nested(CountFigureSchema)
    locations = fields.Integer(validate=COUNT_RANGE)
    locations_audited = fields.Nested(CountFigureSchema)
    critical_failures = fields.Nested(CountFigureSchema, metadata={
        "description": "Audits with a critical failure."})
    scores = fields.List(fields.Nested(ChecklistScoreSchema))
    actions = fields.Nested(ReportActionsSchema)


class WeekSchema(Output):
    week = fields.Date(metadata={"description": "The Monday of the week."})
    score = fields.Float(allow_none=True, validate=PERCENT, metadata={
        "description": "The mean score of the week's audits; null: no audit."})
    audits = fields.Integer(validate=COUNT_RANGE)


class WeeklySchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    weeks = fields.List(fields.Nested(WeekSchema))


class ReportSectionSchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    section_id = fields.String(validate=validate.Length(max=ID_MAX))
    title = fields.Nested(LocalisedTextSchema)
    score = fields.Nested(PercentFigureSchema)


class MostFailedItemSchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    item_id = fields.String(validate=validate.Length(max=ID_MAX))
    label = fields.Nested(LocalisedTextSchema)
    failure_rate = fields.Nested(PercentFigureSchema)
    failed = fields.Integer(validate=COUNT_RANGE, metadata={"description": "Audits where it failed."})
    applicable = fields.Integer(validate=COUNT_RANGE, metadata={
        "description": "Audits where it applied and was answered (not N/A)."})
    locations = fields.Integer(validate=COUNT_RANGE, metadata={
        "description": "Locations where it failed at least once."})
    few_answers = fields.Boolean(metadata={"description": "Fewer than 5 applicable answers."})


class PhoneFiguresSchema(Output):
    calls = fields.Nested(CountFigureSchema)
    answered = fields.Nested(PercentFigureSchema)
    median_rings = fields.Nested(WholeFigureSchema)
    within_3_rings = fields.Nested(PercentFigureSchema)
    median_hold_seconds = fields.Nested(WholeFigureSchema)
    hold_30s_or_less = fields.Nested(PercentFigureSchema)
    two_plus_transfers = fields.Nested(PercentFigureSchema)
    not_my_department = fields.Nested(PercentFigureSchema)
    owned = fields.Nested(PercentFigureSchema)


class ReportLocationSchema(PlaceSchema):
    timezone = fields.String(validate=column_length(Location.timezone))


class LatestAuditSchema(Output):
    audit_id = fields.UUID()
    score = fields.Float(allow_none=True, validate=PERCENT)
    local_date = fields.Date()


class TrendWeekSchema(Output):
    week = fields.Date()
    score = fields.Float(allow_none=True, validate=PERCENT)


class LocationChecklistSchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    score = fields.Nested(PercentFigureSchema)
    audits = fields.Integer(validate=COUNT_RANGE)
    latest = fields.Nested(LatestAuditSchema, allow_none=True)
    days_since_last = fields.Integer(allow_none=True, metadata={
        "description": "Whole days from the latest audit's local date to the location's today."})
    trend = fields.List(fields.Nested(TrendWeekSchema))


class LocationActionsSchema(Output):
    open = fields.Integer(validate=COUNT_RANGE)
    overdue = fields.Integer(validate=COUNT_RANGE)
    median_hours_to_close = fields.Nested(HoursFigureSchema)
    closed_on_time = fields.Nested(PercentFigureSchema)


class RankedLocationSchema(Output):
    rank = fields.Integer(allow_none=True, validate=ID_RANGE, metadata={
        "description": "1 is the worst score; null: not audited in the period."})
    location = fields.Nested(ReportLocationSchema)
    score = fields.Nested(PercentFigureSchema)
    audits = fields.Nested(CountFigureSchema)
    checklists = fields.List(fields.Nested(LocationChecklistSchema))
    critical_failures = fields.Nested(CountFigureSchema)
    actions = fields.Nested(LocationActionsSchema)


class ReportHeaderSchema(Output):
    period = fields.Nested(ReportPeriodSchema)
    previous_period = fields.Nested(PreviousPeriodSchema)
    checklist_id = fields.String(allow_none=True, validate=validate.Length(max=ID_MAX))
    checklists = fields.List(fields.Nested(ReportChecklistSchema))
    summary = fields.Nested(SummarySchema)


class CoverageChecklistSchema(Output):
    checklist_id = fields.String(validate=validate.Length(max=ID_MAX))
    cadence_days = fields.Integer(allow_none=True, validate=CADENCE_DAYS)
    locations = fields.Integer(validate=COUNT_RANGE)
    covered = fields.Nested(CountFigureSchema, metadata={
        "description": "Locations audited within their cadence on the period's last day "
                       "(today, for a period ending now), beside the previous period's."})
    coverage = fields.Nested(PercentFigureSchema, metadata={"description": "covered / locations."})


class CoverageSchema(Output):
    checklists = fields.List(fields.Nested(CoverageChecklistSchema))
    overdue = fields.List(fields.Nested(OverdueLocationSchema), metadata={
        "description": "Now: the locations never audited, then those overdue, most days first."})


class RegionReportSchema(ReportHeaderSchema):
    region = fields.Nested(PlaceSchema)
    weekly = fields.List(fields.Nested(WeeklySchema))
    sections = fields.List(fields.Nested(ReportSectionSchema))
    most_failed = fields.List(fields.Nested(MostFailedItemSchema))
    phone = fields.Nested(PhoneFiguresSchema)
    locations = fields.List(fields.Nested(RankedLocationSchema))
    coverage = fields.Nested(CoverageSchema)


class RegionSummarySchema(Output):
    region = fields.Nested(PlaceSchema)
    locations = fields.Integer(validate=COUNT_RANGE)
    summary = fields.Nested(SummarySchema)


class OrganisationReportSchema(ReportHeaderSchema):
    regions = fields.List(fields.Nested(RegionSummarySchema))


class FailedItemAuditSchema(Output):
    audit_id = fields.UUID()
    location = fields.Nested(ReportLocationSchema)
    local_date = fields.Date()
    score = fields.Float(allow_none=True, validate=PERCENT)
    comment = fields.String(validate=validate.Length(max=COMMENT_MAX))
