"""The organisation's admin pages: regions, locations, and the QR codes at their doors."""
import io
from zoneinfo import available_timezones

import segno
from flask import Response, abort, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ...services import org
from ...services.errors import InvalidInput, NotFound
from . import bp, section

section("admin.regions", _l("Regions"))
section("admin.locations", _l("Locations"))

LOCATION_FIELDS = ("code", "name", "region", "address", "phone", "timezone")


def door_url(location):
    """The absolute URL the QR code at a location's door opens."""
    return url_for("web.location_door", code=location.code, _external=True)


def qr_svg(url):
    """The QR code of `url` as an SVG document (segno, error correction M)."""
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="svg", scale=8, border=4, title=url)
    return out.getvalue()


def _region_or_404(code):
    try:
        return org.region_by_code(code)
    except NotFound:
        abort(404)


def _location_or_404(code):
    try:
        return org.location_by_code(current_user, code)  # an admin's: any location
    except NotFound:
        abort(404)


# --- regions ------------------------------------------------------------------------------

@bp.route("/regions", methods=["GET", "POST"])
def regions():
    form, errors, status = {"code": "", "name": ""}, {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in form}
        try:
            org.create_region(form["code"], form["name"], actor=current_user)
            return redirect(url_for("admin.regions"), 303)
        except InvalidInput as exc:
            errors, status = exc.fields, 422
    return render_template("admin/regions.html", regions=org.regions_with_counts(),
                           form=form, errors=errors), status


@bp.route("/regions/<code:code>", methods=["GET", "POST"])
def regions_edit(code):
    region = _region_or_404(code)
    form, errors, status = {"name": region.name}, {}, 200
    if request.method == "POST":
        form = {"name": request.form.get("name", "")}
        try:
            org.update_region(code, form["name"], actor=current_user)
            return redirect(url_for("admin.regions"), 303)
        except InvalidInput as exc:
            errors, status = exc.fields, 422
    return render_template("admin/region_edit.html", region=region, form=form,
                           errors=errors), status


@bp.route("/regions/<code:code>/qr-sheet")
def regions_qr_sheet(code):
    region = _region_or_404(code)
    return render_template("admin/qr_sheet.html", region=region,
                           locations=org.all_locations(region.code), door_url=door_url)


# --- locations ----------------------------------------------------------------------------

@bp.route("/locations")
def locations():
    regions = [region for region, _ in org.regions_with_counts()]
    region = request.args.get("region", "")
    region = region if region in {r.code for r in regions} else ""
    return render_template("admin/locations.html", regions=regions, region=region,
                           locations=org.all_locations(region or None))


def _location_form(location=None):
    regions = [region for region, _ in org.regions_with_counts()]
    if location is None:
        form = {k: "" for k in LOCATION_FIELDS}
        form["timezone"] = "UTC"
        form["region"] = request.args.get("region", "")
    else:
        form = org.location_snapshot(location)
    errors, status = {}, 200
    if request.method == "POST":
        form = {k: request.form.get(k, "") for k in LOCATION_FIELDS}
        try:
            org.save_location(form, actor=current_user,
                              code=location.code if location is not None else None)
            return redirect(url_for("admin.locations"), 303)
        except InvalidInput as exc:
            errors, status = exc.fields, 422
    return render_template("admin/location_form.html", location=location, form=form,
                           errors=errors, regions=regions,
                           zones=sorted(available_timezones())), status


@bp.route("/locations/new", methods=["GET", "POST"])
def locations_new():
    return _location_form()


@bp.route("/locations/<code:code>", methods=["GET", "POST"])
def locations_edit(code):
    return _location_form(_location_or_404(code))


@bp.route("/locations/<code:code>/qr.svg")
def locations_qr(code):
    location = _location_or_404(code)
    return Response(qr_svg(door_url(location)), mimetype="image/svg+xml")


@bp.route("/locations/<code:code>/poster")
def locations_poster(code):
    location = _location_or_404(code)
    return render_template("admin/poster.html", location=location, url=door_url(location))
