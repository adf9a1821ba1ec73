"""Settings, read from the environment.

Every setting but SECRET_KEY has a safe default for a developer's machine; production
sets DATABASE_URL, SECRET_KEY and PHOTO_STORE in the environment. SECRET_KEY has none:
create_app refuses to start without a strong one (check_secret_key); `make run` keeps
a random one in instance/secret_key.
"""
import os

from .json_provider import dumps_document


def _bool(name, default):
    value = os.environ.get(name)
    if value in (None, ""):
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


class UnsafeConfiguration(RuntimeError):
    """A setting the app must not run with; its message is one line saying what to do."""


MIN_SECRET_KEY_LENGTH = 32
# Keys that are public: the default before this check, and those the tests and
# benchmarks once used (too short as well; named so that the refusal says so).
PUBLIC_SECRET_KEYS = frozenset({"dev-only-not-secret", "test", "bench"})
MAKE_A_KEY = "python3 -c 'import secrets; print(secrets.token_urlsafe(32))'"


def secret_key_problem(key):
    """Why `key` cannot sign the session cookies (one line), or None when it can."""
    fix = f"set it to a random value of {MIN_SECRET_KEY_LENGTH} characters or more, e.g. from {MAKE_A_KEY}"
    if key in (None, "", b""):
        return f"SECRET_KEY is not set: {fix}"
    if (key.decode("utf-8", "replace") if isinstance(key, bytes) else key) in PUBLIC_SECRET_KEYS:
        return f"SECRET_KEY is a publicly known value: {fix}"
    if len(key) < MIN_SECRET_KEY_LENGTH:
        return f"SECRET_KEY is too short ({len(key)} characters): {fix}"
    if len(set(key)) < 10:
        return f"SECRET_KEY repeats a few characters ({len(set(key))} different ones): {fix}"
    return None


def check_secret_key(key):
    """Raise UnsafeConfiguration unless `key` is strong enough to sign the session cookies."""
    problem = secret_key_problem(key)
    if problem:
        raise UnsafeConfiguration(problem)


def _int(name, default):
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


class Config:
    SECRET_KEY = os.environ.get("SECRET_KEY") or None  # see check_secret_key
    # None means "a SQLite file in the instance folder" (resolved in create_app).
    SQLALCHEMY_DATABASE_URI = os.environ.get("DATABASE_URL") or None
    # JSON columns are written with orjson and read with the standard library: SQLite
    # gives a bare JSON number back as a number, which SQLAlchemy lets through only
    # when the parser refuses it the way the standard library's does (TypeError).
    # pool_pre_ping tests a pooled connection before lending it, so connections the database
    # dropped (a restart, a failover) are replaced instead of failing a request.
    SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True, "json_serializer": dumps_document}
    # The connection pool of each process (PostgreSQL; SQLite keeps SQLAlchemy's own), added
    # to SQLALCHEMY_ENGINE_OPTIONS by create_app (database_engine_options): connections kept
    # open, extra ones opened under a burst (closed when returned), and the seconds a
    # request waits for one before it is answered 503 with Retry-After. A sync gunicorn
    # worker serves one request at a time (plus the export read-ahead's connection):
    # (DB_POOL_SIZE + DB_MAX_OVERFLOW) x processes must stay under the server's
    # max_connections (docs/postgresql.md).
    DB_POOL_SIZE = _int("DB_POOL_SIZE", 2)
    DB_MAX_OVERFLOW = _int("DB_MAX_OVERFLOW", 3)
    DB_POOL_TIMEOUT = _int("DB_POOL_TIMEOUT", 10)  # whole seconds (SQLAlchemy drops fractions)
    # Seconds to wait for the database server to accept a new connection (PostgreSQL),
    # so that a server that went silent (no refusal) is a quick 503, not a hung worker.
    DB_CONNECT_TIMEOUT = _int("DB_CONNECT_TIMEOUT", 5)
    # PostgreSQL's statement_timeout on every connection of the app (milliseconds; 0: none;
    # ignored on SQLite): a statement running longer (or waiting that long for a lock) is
    # cancelled and its request answered 503 with Retry-After. Migrations run without it
    # (migrations/env.py): building an index on a large table takes longer.
    DB_STATEMENT_TIMEOUT_MS = _int("DB_STATEMENT_TIMEOUT_MS", 30_000)
    # The Retry-After (seconds) of a 503 answered because the database is unreachable,
    # dropped the connection, or ran out of time (services/errors.py DatabaseUnavailable).
    DB_RETRY_AFTER_SECONDS = _int("DB_RETRY_AFTER_SECONDS", 5)
    CHECKLISTS_DIR = os.environ.get("CHECKLISTS_DIR") or None
    # Password hashing: "argon2id" (argon2-cffi, with the ARGON2_* costs: passes, KiB of
    # memory, lanes), or the name of a werkzeug method (tests use a cheap "pbkdf2:sha256:1000").
    # A hash of another scheme is replaced by one of this scheme at its next sign-in.
    PASSWORD_HASH_METHOD = os.environ.get("PASSWORD_HASH_METHOD", "argon2id")
    ARGON2_TIME_COST = _int("ARGON2_TIME_COST", 3)
    ARGON2_MEMORY_COST = _int("ARGON2_MEMORY_COST", 64 * 1024)
    ARGON2_PARALLELISM = _int("ARGON2_PARALLELISM", 4)
    # API bearer tokens live this long.
    API_TOKEN_HOURS = _int("API_TOKEN_HOURS", 12)
    # Invitation and password-reset links work this long, once.
    INVITATION_HOURS = _int("INVITATION_HOURS", 72)
    # JSON request bodies larger than this are refused with 413.
    MAX_JSON_BYTES = _int("MAX_JSON_BYTES", 1024 * 1024)
    # Flask's own limit, for every body whose endpoint declares none of its own (the
    # pages' forms, of a few kB; see request_bodies.py): larger ones are refused with 413.
    MAX_CONTENT_LENGTH = 1024 * 1024
    # Photos: where the blobs live ("local": PHOTO_DIR, default instance/photos; "s3": the
    # S3_* settings, credentials from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY), and limits.
    PHOTO_STORE = os.environ.get("PHOTO_STORE", "local")
    PHOTO_DIR = os.environ.get("PHOTO_DIR") or None
    S3_ENDPOINT_URL = os.environ.get("S3_ENDPOINT_URL") or None
    S3_BUCKET = os.environ.get("S3_BUCKET") or None
    S3_REGION = os.environ.get("S3_REGION") or None
    # How long boto3 waits for the S3 endpoint, so that a store that is down makes an
    # upload or a photo fail fast (503) instead of holding a worker: seconds to connect,
    # seconds to wait for each answer, and attempts per call (the first included; a
    # retry follows a refused connection, a timeout or a 5xx). A refused connection
    # fails in well under a second; an endpoint that accepts and never answers holds a
    # request about S3_MAX_ATTEMPTS x S3_READ_TIMEOUT (10 s), well within gunicorn's
    # 30-s worker timeout (bench/photo_store.py measures both).
    S3_CONNECT_TIMEOUT = float(os.environ.get("S3_CONNECT_TIMEOUT") or 2)
    S3_READ_TIMEOUT = float(os.environ.get("S3_READ_TIMEOUT") or 5)
    S3_MAX_ATTEMPTS = _int("S3_MAX_ATTEMPTS", 2)
    # The Retry-After (seconds) of the 503 answered while the photo store (S3, or the
    # folder of PHOTO_DIR) does not answer or cannot write; the phone tries again then.
    PHOTO_STORE_RETRY_AFTER = _int("PHOTO_STORE_RETRY_AFTER", 30)
    PHOTO_MAX_BYTES = _int("PHOTO_MAX_BYTES", 25 * 1024 * 1024)
    PHOTO_MAX_PIXELS = _int("PHOTO_MAX_PIXELS", 50_000_000)
    # The memory decoding one photo may take (estimated from its header, see
    # services/photos.py); larger ones are refused with 422.
    PHOTO_DECODE_MAX_BYTES = _int("PHOTO_DECODE_MAX_BYTES", 128 * 1024 * 1024)
    # Photos one process decodes at once (it matters for threaded workers: a sync worker
    # takes one request at a time); an upload beyond waits this long for a turn, then is
    # answered 503 with Retry-After.
    PHOTO_DECODE_SLOTS = _int("PHOTO_DECODE_SLOTS", 2)
    PHOTO_DECODE_WAIT_SECONDS = float(os.environ.get("PHOTO_DECODE_WAIT_SECONDS") or 10)
    # The browser session: a cookie that scripts cannot read and other sites do not send
    # with their forms. Secure (HTTPS only) unless SESSION_COOKIE_SECURE=false, which a
    # developer serving plain http on their machine sets (`make run` does).
    SESSION_COOKIE_SECURE = _bool("SESSION_COOKIE_SECURE", True)
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = SESSION_COOKIE_SECURE
    REMEMBER_COOKIE_HTTPONLY = True
    # CSRF: checked in create_app for unsafe methods, except on bearer-token requests.
    # No time limit: an audit queued offline is sent with its page's token hours later.
    WTF_CSRF_CHECK_DEFAULT = False
    WTF_CSRF_TIME_LIMIT = None
    # Throttling of failed sign-ins (the login form and POST /api/v1/auth/token share the
    # buckets; throttling.py, docs/security.md): limits in Flask-Limiter's notation, ";"
    # between several. Stored in Redis when RATELIMIT_STORAGE_URI names one (redis://host:
    # 6379/0), which every process of a deployment then shares; else in each process's memory.
    SIGNIN_LIMITS_PER_ACCOUNT = os.environ.get("SIGNIN_LIMITS_PER_ACCOUNT") or "5 per minute; 20 per hour"
    SIGNIN_LIMITS_PER_ADDRESS = os.environ.get("SIGNIN_LIMITS_PER_ADDRESS") or "10 per minute; 100 per hour"
    RATELIMIT_ENABLED = _bool("RATELIMIT_ENABLED", True)
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI") or "memory://"
    RATELIMIT_KEY_PREFIX = os.environ.get("RATELIMIT_KEY_PREFIX") or "momento"
    RATELIMIT_STRATEGY = "moving-window"
    # Redis unreachable: sign-in goes on, throttled in each process's memory meanwhile.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = False  # throttling.py sends Retry-After with its 429s
    # Behind a reverse proxy (deploy/nginx.conf): how many proxies in front of the app set
    # X-Forwarded-For, -Proto, -Host and -Port (werkzeug's ProxyFix trusts that many hops).
    # Then request.remote_addr is the client's (the per-address sign-in limits count it),
    # and request.is_secure is true behind a proxy that ends TLS (HSTS, secure cookies).
    # 0: the app is reached directly, and any X-Forwarded-* header is ignored (a client
    # could forge it).
    PROXY_HOPS = _int("PROXY_HOPS", 0)
    # Languages of the pages; the browser's Accept-Language chooses until the user does.
    LANGUAGES = ("es", "en")
    BABEL_DEFAULT_LOCALE = "es"
    PER_PAGE_DEFAULT = 50
    PER_PAGE_MAX = 200
    # The address people open Momento at (e.g. https://momento.example.com): the links of
    # the e-mails, which are read away from any request, are made from it.
    PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL") or None
    # The mail server of the weekly digest (`flask digest send`; none: it only --dry-runs).
    # MAIL_PORT is read by audit_server/mail.py (default 587 with MAIL_USE_TLS, else 25),
    # so that a bad value is that command's error, not every command's.
    MAIL_SERVER = os.environ.get("MAIL_SERVER") or None
    MAIL_PORT = os.environ.get("MAIL_PORT") or None
    MAIL_USE_TLS = _bool("MAIL_USE_TLS", False)  # STARTTLS after connecting
    MAIL_USERNAME = os.environ.get("MAIL_USERNAME") or None
    MAIL_PASSWORD = os.environ.get("MAIL_PASSWORD") or None
    MAIL_FROM = os.environ.get("MAIL_FROM") or None
    # Logs: JSON lines on stderr with the request id (audit_server/security_headers.py).
    # Unset: on, except in an app made with TESTING (the tests' output stays quiet and
    # caplog sees Flask's plain records); LOG_JSON=false leaves Flask's plain logging.
    LOG_JSON = _bool("LOG_JSON", None)
    LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
    # The app's own access line per request (method, path, status, duration, request id).
    # gunicorn.conf.py turns it off: gunicorn writes its own, with the same request id.
    LOG_ACCESS = _bool("LOG_ACCESS", True)
    # OpenAPI (flask-smorest)
    API_TITLE = "Momento API"
    API_VERSION = "v1"
    OPENAPI_VERSION = "3.0.3"
    OPENAPI_URL_PREFIX = "/api/v1"
    OPENAPI_JSON_PATH = "openapi.json"
