"""The baseline for bench/submit.py: bare Flask inserting one row per request."""
import os
import uuid

import sqlalchemy as sa
from flask import Flask, request

engine = sa.create_engine(os.environ["DATABASE_URL"], pool_pre_ping=True)
rows = sa.Table("bench_rows", sa.MetaData(), sa.Column("id", sa.Uuid, primary_key=True),
                sa.Column("body", sa.Text))
app = Flask(__name__)


@app.post("/rows")
def insert_row():
    body = request.get_json()
    with engine.begin() as conn:
        conn.execute(rows.insert().values(id=uuid.UUID(body["id"]), body=request.get_data(as_text=True)))
    return {"id": body["id"]}, 201
