"""SQLAlchemy models, one module per aggregate."""
from .actions import ActionEvent, CorrectiveAction
from .activity import ActivityEntry
from .audits import Audit
from .cadences import Cadence
from .checklists import ChecklistVersion
from .digests import DigestDelivery
from .org import Location, Region
from .photos import Photo
from .users import ROLES, ApiToken, Invitation, User, UserSession

__all__ = ["ActionEvent", "ActivityEntry", "ApiToken", "Audit", "Cadence", "ChecklistVersion", "CorrectiveAction",
           "DigestDelivery", "Invitation", "Location", "Photo", "Region", "ROLES", "User", "UserSession"]
