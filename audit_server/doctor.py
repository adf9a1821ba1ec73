"""`flask doctor`: is this deployment ready to serve? One line per check, saying what is
wrong and what to do about it; exit status 1 when any check fails.

Run it with the deployment's environment (DATABASE_URL, PHOTO_STORE, RATELIMIT_STORAGE_URI,
MAIL_*, ...) after `flask db upgrade` and `flask checklists sync`; `make serve` runs it
before it starts gunicorn. (A missing or weak SECRET_KEY stops even this command: the app
refuses to start and says why in one line.)
"""
import secrets
from dataclasses import dataclass

import sqlalchemy as sa
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from . import mail
from .config import secret_key_problem
from .extensions import db
from .services import checklists
from .services.errors import InvalidInput
from .storage import LocalPhotoStore, open_photo_store

OK, WARN, FAIL, SKIPPED = "ok", "warn", "FAIL", "--"


@dataclass(frozen=True)
class Finding:
    status: str  # OK, WARN (works, but look at it), FAIL (must be fixed) or SKIPPED
    check: str
    message: str

    def line(self):
        return f"{self.status:<4}  {self.check}: {self.message}"


def _problem(exc):
    """An exception as a short phrase: its class and first line."""
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0]}" if text else exc.__class__.__name__


def check_database():
    url = db.engine.url.render_as_string(hide_password=True)
    try:
        with db.engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
            current = set(MigrationContext.configure(connection).get_current_heads())
    except sa.exc.SQLAlchemyError as exc:
        cause = _problem(getattr(exc, "orig", None) or exc)
        return Finding(FAIL, "database", f"{url} is not reachable ({cause})"), False
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = set(ScriptDirectory.from_config(config).get_heads())
    if current != heads:
        at = ", ".join(sorted(current)) or "no migration"
        return Finding(FAIL, "database", f"{url} is at {at}, not at the latest migration "
                                         f"{', '.join(sorted(heads))}: run `flask db upgrade`"), False
    return Finding(OK, "database", f"{url} reachable, migrations at head ({', '.join(heads)})"), True


def check_checklists():
    directory = current_app.config["CHECKLISTS_DIR"]
    files = checklists.checklist_files(directory)
    if not files:
        return Finding(FAIL, "checklists", f"no checklist files in {directory}")
    stored = checklists.stored_keys()
    invalid, unsynced = [], []
    for path in files:
        definition, errors = checklists.check_file(path)
        if errors:
            where, message = errors[0]
            invalid.append(f"{path.name} ({where}: {message})")
        elif (definition["id"], checklists.content_version(definition)) not in stored:
            unsynced.append(path.name)
    if invalid:
        return Finding(FAIL, "checklists", f"not valid: {'; '.join(invalid)}")
    if unsynced:
        return Finding(FAIL, "checklists", f"not stored yet: {', '.join(unsynced)}: "
                                           "run `flask checklists sync`")
    return Finding(OK, "checklists", f"{len(files)} files in {directory}, every version stored")


def check_photo_store():
    config = current_app.config
    try:
        store = open_photo_store(config, current_app.instance_path)
    except RuntimeError as exc:
        return Finding(FAIL, "photo store", str(exc))
    where = (f"folder {store.root}" if isinstance(store, LocalPhotoStore)
             else f"bucket {config['S3_BUCKET']} at {config['S3_ENDPOINT_URL'] or 'AWS S3'}")
    probe = b"momento doctor " + secrets.token_bytes(16)  # never a photo's content
    try:
        name = store.put(probe, "application/octet-stream")
        try:
            if store.get(name) != probe:
                return Finding(FAIL, "photo store", f"{where}: a blob read back differs from what was written")
        finally:
            store.delete(name)
    except Exception as exc:  # noqa: BLE001 (whatever the store raises is the finding)
        return Finding(FAIL, "photo store", f"{where} is not writable and readable ({_problem(exc)})")
    return Finding(OK, "photo store", f"{where}: written, read back and deleted a test blob")


def check_secret_key():
    problem = secret_key_problem(current_app.config["SECRET_KEY"])
    if problem:  # only when the app was made with a key of its own in `config`
        return Finding(FAIL, "secret key", problem)
    if not current_app.config["SESSION_COOKIE_SECURE"]:
        return Finding(WARN, "secret key", "strong, but SESSION_COOKIE_SECURE is false: session "
                                           "cookies go over plain http too (set it true behind HTTPS)")
    return Finding(OK, "secret key", "strong; session cookies are sent over HTTPS only")


def check_rate_limit_storage():
    from limits.storage import storage_from_string

    config = current_app.config
    if not config["RATELIMIT_ENABLED"]:
        return Finding(WARN, "rate-limit storage", "throttling of sign-ins is off (RATELIMIT_ENABLED=false)")
    uri = config["RATELIMIT_STORAGE_URI"]
    if uri.startswith("memory://"):
        return Finding(WARN, "rate-limit storage", "in each process's memory: every process counts "
                                                   "apart; with several, set RATELIMIT_STORAGE_URI=redis://...")
    shown = sa.make_url(uri).render_as_string(hide_password=True) if "://" in uri else uri
    try:
        reachable = storage_from_string(uri).check()
    except Exception as exc:  # noqa: BLE001 (a bad URI or driver is the finding)
        return Finding(FAIL, "rate-limit storage", f"{shown}: {_problem(exc)}")
    if not reachable:
        return Finding(FAIL, "rate-limit storage", f"{shown} is not reachable (sign-ins are then "
                                                   "throttled in each process's memory)")
    return Finding(OK, "rate-limit storage", f"{shown} reachable")


def check_mail():
    try:
        settings = mail.mail_settings(current_app.config)
    except InvalidInput as exc:
        return Finding(FAIL, "mail", exc.message)
    if settings is None:
        return Finding(WARN, "mail", "not configured (MAIL_SERVER): invitation links are only shown "
                                     "to the admin, and `flask digest send` can only --dry-run")
    where = f"{settings.server}:{settings.port}"
    try:
        with mail.Mailer(settings):
            pass
    except Exception as exc:  # noqa: BLE001 (smtplib's and the socket's errors alike)
        return Finding(FAIL, "mail", f"{where} does not accept us ({_problem(exc)})")
    return Finding(OK, "mail", f"{where} accepts a session{' (STARTTLS)' if settings.use_tls else ''}"
                               f"{', signed in' if settings.username else ''}; digests come from {settings.sender}")


def examine():
    """Every check's Finding, in order; those needing the database are skipped without it."""
    database, reachable = check_database()
    findings = [database]
    if reachable:
        findings.append(check_checklists())
    else:
        findings.append(Finding(SKIPPED, "checklists", "not checked: the database is not ready"))
    findings += [check_photo_store(), check_secret_key(), check_rate_limit_storage(), check_mail()]
    return findings
