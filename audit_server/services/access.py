"""Who may see what: the one scoping rule every query for location data goes through.

admin: every location; regional: the locations of their regions; manager: their
own locations. Anything outside answers "not found", never "forbidden".

The rule is written once, in REACH; both directions follow from it: the locations a
user sees (`visible_location_ids`, `in_scope`, `can_see_location`) and the users who
see a location (`sees_location`, used to offer and check the owners of an action).
"""
import sqlalchemy as sa

from ..extensions import db
from ..models import Location, Region, User
from ..models.users import user_locations, user_regions

# How the users of each role reach the locations they see: None for every location,
# else a membership column paired with the column of the location it must equal
# (the user's row in that membership table names the location's region, or the location).
REACH = {
    "admin": None,
    "regional": (user_regions.c.region_id, Location.region_id),
    "manager": (user_locations.c.location_id, Location.id),
}


def _reached_locations(membership, location_column):
    """A SELECT of (user_id, location id): each membership row and the locations it reaches."""
    return (sa.select(membership.table.c.user_id, Location.id).select_from(Location)
            .join(membership.table, membership == location_column))


def visible_location_ids(user):
    """A SELECT of the ids of the locations a user may see (None: all of them)."""
    reach = REACH[user.role]
    if reach is None:
        return None
    reached = _reached_locations(*reach)
    return reached.with_only_columns(Location.id).where(reached.selected_columns.user_id == user.id)


def visible_region_ids(user):
    """A SELECT of the ids of the regions a user sees whole (None: all of them): those their
    membership reaches as regions. A manager reaches locations, not regions: none."""
    reach = REACH[user.role]
    if reach is None:
        return None
    membership, location_column = reach
    if location_column is not Location.region_id:
        return sa.select(Region.id).where(sa.false())
    return sa.select(membership).where(membership.table.c.user_id == user.id)


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


def sees_location(location_id):
    """A condition on User: the users who may see the location (whether active or not)."""
    def by_role(role, reach):
        if reach is None:
            return User.role == role
        reached = _reached_locations(*reach)
        user_id = reached.selected_columns.user_id
        return sa.and_(User.role == role,
                       User.id.in_(reached.with_only_columns(user_id).where(Location.id == location_id)))

    return sa.or_(*(by_role(role, reach) for role, reach in REACH.items()))
