"""The cadence page: how often each checklist is due in each region; set or reset it."""
from flask import redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...services import cadence as cadence_service
from ...services.errors import InvalidInput, NotFound
from . import bp, section

section("admin.cadence", _l("Cadence"))


@bp.route("/cadence", methods=["GET", "POST"])
def cadence():
    errors, status, failed = {}, 200, None
    if request.method == "POST":
        region, checklist = request.form.get("region", ""), request.form.get("checklist", "")
        failed = (region, checklist)
        try:
            if request.form.get("reset"):
                cadence_service.reset_cadence(region, checklist, actor=current_user)
            else:
                raw = request.form.get("days", "").strip()
                days = int(raw) if raw.isdigit() else raw
                cadence_service.set_cadence(region, checklist, days, actor=current_user)
            return redirect(url_for("admin.cadence"), 303)
        except NotFound as exc:
            errors, status = {"form": [exc.message]}, 404
        except InvalidInput as exc:
            errors, status = exc.fields, 422
    rows = cadence_service.cadences()
    checklists = sorted({row["checklist_id"] for row in rows})
    table = {}
    for row in rows:
        table.setdefault(row["region"].code, {"region": row["region"], "cells": {}})
        table[row["region"].code]["cells"][row["checklist_id"]] = row
    return render_template("admin/cadence.html", table=list(table.values()),
                           checklists=checklists, errors=errors, failed=failed,
                           min_days=cadence_service.MIN_DAYS,
                           max_days=cadence_service.MAX_DAYS), status
