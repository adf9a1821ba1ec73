from flask_login import current_user

from ..schemas.cadence import LocationDueSchema
from ..schemas.org import LocationSchema
from ..services import cadence, org
from . import resource_blueprint

blp = resource_blueprint("locations", __name__, "/locations", description="Locations")


@blp.route("")
@blp.response(200, LocationSchema(many=True))
def list_locations():
    """The locations the current user may audit or see."""
    return org.visible_locations(current_user)


@blp.route("/<id:location_id>")
@blp.response(200, LocationSchema)
def get_location(location_id):
    return org.get_location(current_user, location_id)


@blp.route("/<id:location_id>/due")
@blp.response(200, LocationDueSchema)
def location_due(location_id):
    """What is due at the location, per checklist, on its own clock: done for this period,
    due, or overdue by N days (the region's cadence, else walk-in every 7 days, phone 14)."""
    return cadence.location_due(current_user, location_id)
