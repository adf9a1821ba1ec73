"""The floor for bench/submit.py (--floor): the least a submission can do on this stack.

Flask and SQLAlchemy Core on the same database, no framework beyond that: look the
bearer token up, INSERT the audit with its 16 answers, commit, answer with the
answers. No validation, no scoring, no scope, no corrective actions: not a way to
build Momento, only a measure of how close to the stack's floor Momento's path is.
"""
import hashlib
import os
import uuid
from datetime import datetime, timezone

import sqlalchemy as sa
from flask import Flask, request

from audit_server.models import ApiToken, Audit

engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
audits, tokens = Audit.__table__, ApiToken.__table__
user_for_token = sa.select(tokens.c.user_id).where(tokens.c.token_hash == sa.bindparam("token_hash"))
with engine.connect() as connection:
    versions = dict(connection.execute(sa.text("SELECT checklist_id, version FROM checklist_versions")).all())
app = Flask(__name__)


@app.post("/api/v1/audits")
def submit():
    body = request.get_json()
    token = request.headers["Authorization"].partition(" ")[2]
    now = datetime.now(timezone.utc)
    audit_id = uuid.UUID(body["id"])
    with engine.begin() as connection:
        user_id = connection.execute(
            user_for_token, {"token_hash": hashlib.sha256(token.encode()).hexdigest()}).scalar_one()
        connection.execute(audits.insert(), {
            "id": audit_id, "location_id": body["location_id"], "checklist_id": body["checklist_id"],
            "checklist_version": versions[body["checklist_id"]], "auditor_id": user_id,
            "started_at": now, "submitted_at": now, "received_at": now, "notes": "",
            "content_hash": "", "score_percent": None, "points": 0, "max_points": 0,
            "critical_failed": False, "sections": [], "answers": {
                item_id: {"position": position, "value": answer["value"], "comment": "",
                          "applies": True, "points": None, "max_points": None, "failed": False,
                          "critical": False, "photo_when_failed": False}
                for position, (item_id, answer) in enumerate(body["answers"].items())}})
    return {"id": body["id"], "answers": body["answers"]}, 201
