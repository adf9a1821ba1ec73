from ..schemas.checklists import ChecklistQuerySchema, ChecklistSchema, ChecklistSummarySchema
from ..services import checklists
from . import resource_blueprint

blp = resource_blueprint("checklists", __name__, "/checklists", description="Checklists")


@blp.route("")
@blp.response(200, ChecklistSummarySchema(many=True))
def list_checklists():
    """The current version of every checklist."""
    return sorted(checklists.current_checklists().values(), key=lambda c: c.id)


@blp.route("/<identifier:checklist_id>")
@blp.arguments(ChecklistQuerySchema(), location="query")
@blp.response(200, ChecklistSchema)
def get_checklist(args, checklist_id):
    """A checklist's full definition: the current version, or the one asked for."""
    if "version" in args:
        return checklists.find_version(checklist_id, args["version"])
    return checklists.current_checklist(checklist_id)
