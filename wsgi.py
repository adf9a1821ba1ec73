"""Entry point for gunicorn: `gunicorn wsgi:app`."""
import sys

from audit_server import create_app
from audit_server.config import UnsafeConfiguration

try:
    app = create_app()
except UnsafeConfiguration as refusal:
    # One line, not a traceback; and exit status 3, gunicorn's "worker failed to boot",
    # on which the master stops instead of starting the worker again and again.
    print(f"Momento will not start: {refusal}", file=sys.stderr, flush=True)
    raise SystemExit(3) from None
