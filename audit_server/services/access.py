"""Who may see what: the one scoping rule every query for location data goes through.

admin: every location; regional: the locations of their regions; manager: their
own locations. Anything outside answers "not found", never "forbidden".
"""
import sqlalchemy as sa

from ..extensions import db

from ..models import Location
from ..models.users import user_locations, user_regions


def visible_location_ids(user):
    """A SELECT of the ids of the locations a user may see (None: all of them)."""
    if user.role == "admin":
        return None
    if user.role == "regional":
        return sa.select(Location.id).join(
            user_regions, user_regions.c.region_id == Location.region_id
        ).where(user_regions.c.user_id == user.id)
    return sa.select(user_locations.c.location_id).where(user_locations.c.user_id == user.id)


def in_scope(stmt, user, location_column):
    """Limit a SELECT to the rows whose location_column the user may see."""
    visible = visible_location_ids(user)
    return stmt if visible is None else stmt.where(location_column.in_(visible))


def visible_location(user, location_id):
    """A SELECT of the location's id if the user may see it (of nothing otherwise);
    `location_id` may be a bound parameter."""
    return in_scope(sa.select(Location.id).where(Location.id == location_id), user, Location.id)


def can_see_location(user, location_id):
    return db.session.scalar(visible_location(user, location_id)) is not None
