from flask_login import current_user

from ..schemas.org import LocationSchema
from ..services import org
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
