from functools import partial

from flask_login import current_user

from ..schemas.common import page_of, paginated
from ..schemas.reports import (
    FailedItemAuditSchema,
    FailedItemQuerySchema,
    OrganisationReportSchema,
    RegionReportSchema,
    ReportQuerySchema,
)
from ..services import reports
from . import resource_blueprint

blp = resource_blueprint("reports", __name__, "/reports", description="Reports")


def _period(args, code=None):
    """The period the query asks for, on the viewer's clock."""
    zone = reports.viewer_zone(current_user, code, args.pop("tz", None))
    return reports.period_of(args.pop("period", None), args.pop("from_", None),
                             args.pop("to", None), zone)


@blp.route("")
@blp.arguments(ReportQuerySchema(), location="query")
@blp.response(200, OrganisationReportSchema)
@blp.error(404, "Managers have no organisation overview.")
def organisation_report(args):
    """The regions you see side by side (admin: all), each figure beside the previous period's."""
    return reports.organisation_report(current_user, _period(args), args.get("checklist_id"))


@blp.route("/regions/<code:code>")
@blp.arguments(ReportQuerySchema(), location="query")
@blp.response(200, RegionReportSchema)
def region_report(args, code):
    """A region's report: its figures, its locations ranked worst first, its most-failed items."""
    return reports.region_report(current_user, code, _period(args, code), args.get("checklist_id"))


@blp.route("/regions/<code:code>/items/<identifier:checklist_id>/<identifier:item_id>")
@blp.arguments(FailedItemQuerySchema(), location="query")
@blp.response(200, page_of(FailedItemAuditSchema))
def failed_item_audits(args, code, checklist_id, item_id):
    """The region's audits of the period in which the item failed, newest first."""
    period = _period(args, code)
    return paginated(partial(reports.failed_item_audits, current_user, code, checklist_id,
                             item_id, period), args)
