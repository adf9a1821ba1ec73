"""SQLAlchemy models, one module per aggregate."""
from .audits import Answer, Audit
from .checklists import ChecklistVersion
from .org import Location, Region
from .photos import Photo
from .users import ROLES, ApiToken, User

__all__ = ["Answer", "ApiToken", "Audit", "ChecklistVersion", "Location", "Photo", "Region", "ROLES",
           "User"]
