from functools import partial

from flask_login import current_user

from ..schemas.actions import (
    ActionChangeSchema,
    ActionMetricsQuerySchema,
    ActionMetricsReportSchema,
    ActionQuerySchema,
    ActionSchema,
    ActionSummarySchema,
)
from ..schemas.common import page_of, paginated
from ..services import actions, reports
from . import resource_blueprint

blp = resource_blueprint("actions", __name__, "/actions", description="Corrective actions")


@blp.route("")
@blp.arguments(ActionQuerySchema(), location="query")
@blp.response(200, page_of(ActionSummarySchema))
def list_actions(args):
    """The actions the current user may see: overdue first, then by deadline."""
    owner = args.pop("owner", None)
    args["owner_id"] = current_user.id if owner == "me" else owner
    args["statuses"] = args.pop("status", ())
    return paginated(partial(actions.list_actions, current_user), args)


@blp.route("/metrics")
@blp.arguments(ActionMetricsQuerySchema(), location="query")
@blp.response(200, ActionMetricsReportSchema)
def metrics(args):
    """Open, overdue, median time to close and share closed on time, per location or region."""
    groups = reports.action_metrics(current_user, args["group_by"], since=args.get("since"))
    return {"group_by": args["group_by"], "groups": groups}


@blp.route("/<id:action_id>")
@blp.response(200, ActionSchema)
def get_action(action_id):
    """One action with its linked audits and its timeline."""
    return actions.get_action(current_user, action_id)


@blp.route("/<id:action_id>", methods=["PATCH"])
@blp.arguments(ActionChangeSchema())
@blp.response(200, ActionSchema)
@blp.error(403, "Only a regional manager, an admin or the auditor of a later audit where the "
                "item passed may verify an action.")
@blp.error(409, "The action changed since this version was read.")
@blp.error(422, "An illegal status move, or a missing note, reason or photo.")
def change_action(change, action_id):
    """Move the status (with a note), reassign (with a reason), or comment (a note alone)."""
    return actions.change_action(current_user, action_id, **change)
