"""Entry point for gunicorn: `gunicorn wsgi:app`."""
from audit_server import create_app

app = create_app()
