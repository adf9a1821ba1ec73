"""Extension objects, created unbound and initialised in create_app."""
from flask_babel import Babel
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import DeclarativeBase

from .schemas.errors import ErrorSchema


class Base(DeclarativeBase):
    pass


class ErrorFormatApi(Api):
    """flask-smorest Api whose errors are rendered by api/errors.py instead.

    The default handler would turn every HTTP error of the whole app (HTML pages
    included) into smorest's own JSON shape; ours is api/errors.py's, and the
    document describes every error response with it.
    """

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        pass


# Objects stay usable after commit: a request serialises what it just stored
# without reloading it.
db = SQLAlchemy(model_class=Base, session_options={"expire_on_commit": False})
migrate = Migrate()
login = LoginManager()
rest_api = ErrorFormatApi()
csrf = CSRFProtect()
babel = Babel()
