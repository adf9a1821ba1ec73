"""Momento: mystery-shopper self-audits of the moments of truth."""
import os
from pathlib import Path

import sqlalchemy as sa
from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from .api import url_converters
from .config import Config, check_secret_key
from .extensions import csrf, db, login, migrate, rest_api
from .json_provider import JSONProvider
from .request_bodies import Request

ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    """The app factory. `config` (a dict) overrides settings, e.g. in tests.

    Raises config.UnsafeConfiguration, whose message is one line, when SECRET_KEY is
    missing or weak."""
    app = Flask(__name__, instance_relative_config=True,
                static_folder=str(ROOT / "static"), static_url_path="/static")
    app.json = JSONProvider(app)
    app.request_class = Request
    app.url_map.converters.update(url_converters())
    app.config.from_object(Config)
    if config:
        app.config.update(config)
    check_secret_key(app.config["SECRET_KEY"])  # raises UnsafeConfiguration
    if app.config["PROXY_HOPS"]:
        hops = app.config["PROXY_HOPS"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops)
    os.makedirs(app.instance_path, exist_ok=True)
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'momento.db'}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(app.config["SQLALCHEMY_DATABASE_URI"])
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = database_engine_options(app.config)
    app.config.setdefault("CHECKLISTS_DIR", None)
    app.config["CHECKLISTS_DIR"] = app.config["CHECKLISTS_DIR"] or str(ROOT / "checklists")

    from . import models  # noqa: F401  (register the tables)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login.init_app(app)
    csrf.init_app(app)
    rest_api.init_app(app)
    _configure_sqlite(app)
    _configure_login()

    from . import cli, photo_files, security_headers, throttling, web
    from .api import errors, register_resources
    from .web import admin

    security_headers.init_app(app)  # first: its request id is there for every other hook
    register_resources(rest_api)
    app.register_blueprint(photo_files.bp)
    errors.register(app)
    web.init_app(app)
    admin.init_app(app)
    throttling.init_app(app)  # after every route is registered
    cli.register(app)
    _load_checklists(app)
    return app


def normalise_database_url(url):
    """postgres:// and postgresql:// mean psycopg 3 here."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def database_engine_options(config):
    """SQLALCHEMY_ENGINE_OPTIONS with the pool and the statement timeout of the DB_*
    settings (config.py) for a server database; SQLite keeps SQLAlchemy's own pool (a file
    has no connections to share out, and :memory: takes no pool size)."""
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    url = config["SQLALCHEMY_DATABASE_URI"]
    if url.startswith("sqlite"):
        return options
    options.setdefault("pool_size", int(config["DB_POOL_SIZE"]))
    options.setdefault("max_overflow", int(config["DB_MAX_OVERFLOW"]))
    options.setdefault("pool_timeout", int(config["DB_POOL_TIMEOUT"]))
    if url.startswith("postgresql"):
        connect_args = dict(options.get("connect_args", {}))
        connect_args.setdefault("connect_timeout", int(config["DB_CONNECT_TIMEOUT"]))
        timeout = int(config["DB_STATEMENT_TIMEOUT_MS"])
        if timeout > 0:
            # libpq's "options": run-time settings of the session, sent as it starts.
            extra = connect_args.get("options", "")
            connect_args["options"] = f"{extra} -c statement_timeout={timeout}".strip()
        options["connect_args"] = connect_args
    return options


def _configure_sqlite(app):
    """WAL, foreign keys and a busy timeout, so concurrent requests wait instead of failing."""
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return
    with app.app_context():
        engine = db.engine

    @sa.event.listens_for(engine, "connect")
    def on_connect(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def _configure_login():
    from .services import accounts
    from .web.security import bearer_token

    login.login_view = "web.login"
    login.login_message = None

    # A request that names a bearer token is judged by its token alone: it has no
    # cookie session (web/security.py), so only the request loader can sign it in.
    # A cookie session counts only while its row in user_sessions exists (services/accounts.py):
    # sign-out, a new password, deactivation and "sign out everywhere" delete it, and then the
    # cookie is forgotten here, signing the person out.
    @login.user_loader
    def load_user(user_id):
        from flask import session

        user = accounts.user_for_session(user_id, session.get("sid"))
        if user is None:
            for key in ("_user_id", "_fresh", "_id", "sid"):
                session.pop(key, None)
        return user

    @login.request_loader
    def load_user_from_bearer(_request):
        token = bearer_token()
        return accounts.user_for_token(token) if token else None


def _load_checklists(app):
    """Read the checklist files. Nothing is written: `flask checklists sync` stores their
    versions (after `flask db upgrade`), else each is stored when first needed."""
    from .services import checklists

    app.extensions["momento.checklists"] = checklists.load_directory(app.config["CHECKLISTS_DIR"])
    app.extensions["momento.stored_versions"] = set()
