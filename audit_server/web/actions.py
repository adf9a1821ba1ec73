"""Corrective actions on the phone: "My actions", and one action's page with its forms.

Every form is a plain POST (CSRF token, and the `version` the page was rendered with),
so the pages work without JavaScript. A refused change re-renders the action as it is
now, with the reason in the reader's language and what they typed kept.
"""
import uuid
from math import ceil

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from marshmallow import ValidationError

from ..models.types import utcnow
from ..request_bodies import declare_body
from ..schemas.actions import ActionChangeSchema
from ..schemas.base import TEXT_MAX
from ..schemas.photos import CAPTION_MAX, ActionPhotoUploadSchema
from ..services import actions, my_work
from ..services.errors import (
    Conflict,
    Forbidden,
    ImageTooBig,
    InvalidInput,
    NotFound,
    ServiceError,
    StoreUnavailable,
    TooLarge,
    Unavailable,
    UnsupportedType,
)
from . import bp, query_page

PER_PAGE = 20
ACTION_ID = "<id:action_id>"
STATUS_LABELS = {"open": _l("Open"), "in_progress": _l("In progress"), "done": _l("Done"),
                 "verified": _l("Verified"), "reopened": _l("Reopened")}
MOVE_LABELS = {"in_progress": _l("Mark in progress"), "done": _l("Mark done"),
               "verified": _l("Verify the fix"), "reopened": _l("Reopen")}
# The fields a change form may send (see ActionChangeSchema), and which are numbers.
CHANGE_FIELDS = ("version", "status", "note", "owner_id", "reason")
NUMBER_FIELDS = ("version", "owner_id")
# A refusal, by the field the service names, in the reader's language (first match wins).
FIELD_PROBLEMS = {
    "version": _l("Someone changed this action meanwhile, so your change was not saved. "
                  "This is the action as it is now: check it and try again."),
    "after_photo": _l('This item needs an "after" photo of the fix before the action can be '
                      'done. Take the photo below, then mark it done.'),
    "status": _l("That move is not possible from the action's current status."),
    "note": _l("Write a note first: say what was done, or why."),
    "reason": _l("Give a reason for the reassignment."),
    "owner_id": _l("Choose someone else who can see this location as the new owner."),
    "id": _l("This form was already used for another photo: choose the photo again."),
}
# A refusal of a photo, by its kind of error (or the nearest kind it refines).
PHOTO_PROBLEMS = {
    TooLarge: _l("This photo is too large. Take it again, or choose a smaller one."),
    UnsupportedType: _l("This file is not a photo (JPEG, PNG, WebP or HEIC)."),
    InvalidInput: _l("This photo could not be read (it may be damaged). Take it again."),
    ImageTooBig: _l("This photo has too many pixels to be processed. Take it again at a lower "
                    "resolution, or choose a smaller one."),
    Unavailable: _l("The server is busy with other photos right now. Wait a few seconds, then "
                    "send the photo again."),
    StoreUnavailable: _l("Photos cannot be stored right now: the photo store does not answer. "
                         "Nothing was saved; send the photo again in a minute."),
}


@bp.app_template_filter("status_label")
def status_label(status):
    return STATUS_LABELS.get(status, status)


@bp.app_template_filter("move_label")
def move_label(status):
    return MOVE_LABELS.get(status, status)


@bp.route("/actions")
@login_required
def my_actions():
    """My unverified actions (with ?show=all, everyone's I may see): overdue first; or,
    with ?show=verify, those marked done waiting for verification, the longest waiting first."""
    show = request.args.get("show")
    page = query_page()
    if show == "verify":
        rows, total = my_work.waiting_for_verification(current_user, page, PER_PAGE)
    else:
        show = "all" if show == "all" else None
        rows, total = my_work.actions_to_follow(current_user, page, PER_PAGE, everyone=show == "all")
    return render_template("actions/list.html", rows=rows, total=total, page=page,
                           pages=max(1, ceil(total / PER_PAGE)), show=show,
                           verifies=current_user.role in actions.VERIFIER_ROLES)


def _action_or_404(action_id):
    try:
        return actions.get_action(current_user, action_id)
    except NotFound:
        abort(404)


def render_action(action_id, problem=None, typed=None, status=200):
    """The action as it is now; `problem` says why a change was refused, `typed` keeps the form."""
    action = _action_or_404(action_id)
    now = utcnow()
    return render_template(
        "actions/action.html", action=action, row=my_work.action_row(action, now),
        found_by=next((a for a in action.audits if a.id == action.audit_id), None),
        moves=action.allowed_moves, owners=actions.possible_owners(action),
        people=actions.people_in_timeline(action), guidance=actions.guidance_for(action),
        problem=problem, typed=typed or {},
        photo_id=uuid.uuid4(), text_max=TEXT_MAX, caption_max=CAPTION_MAX,
    ), status


@bp.route(f"/actions/{ACTION_ID}")
@login_required
def action(action_id):
    return render_action(action_id)


def change_from(form):
    """The change a form asks for, checked by the API's own schema (ValidationError if bad)."""
    change = {}
    for name in CHANGE_FIELDS:
        value = form.get(name, "").strip()
        if value:
            change[name] = int(value) if name in NUMBER_FIELDS and value.isdecimal() else value
    return ActionChangeSchema().load(change)


def problem_of(error_fields, fallback, among=tuple(FIELD_PROBLEMS)):
    return next((str(FIELD_PROBLEMS[f]) for f in among if f in error_fields), fallback)


def photo_problem(exc):
    """Why a photo was refused, in the reader's language: the sentence of its kind of error."""
    return next(PHOTO_PROBLEMS[kind] for kind in type(exc).__mro__ if kind in PHOTO_PROBLEMS)


def refused(action_id, exc):
    """The page again, saying in the reader's language why the change was not made."""
    if isinstance(exc, ValidationError):  # a tampered or outdated form: only a status says more
        problem = problem_of(exc.messages, _("The form was not filled in correctly."), ("status",))
        status = 422
    elif isinstance(exc, Forbidden):
        problem, status = _("Only a regional manager, an admin or the auditor of the later audit "
                            "where the item passed can verify an action."), exc.status
    else:
        problem, status = problem_of(exc.fields, exc.message), exc.status
    return render_action(action_id, problem, request.form.to_dict(), status)


@bp.route(f"/actions/{ACTION_ID}", methods=["POST"])
@login_required
def change_action(action_id):
    """A status move (with a note), a reassignment (with a reason) or a note."""
    try:
        changed = actions.change_action(current_user, action_id, **change_from(request.form))
    except NotFound:
        abort(404)
    except (ValidationError, ServiceError) as exc:
        return refused(action_id, exc)
    if request.form.get("status"):
        flash(_("Status changed: %(status)s.", status=status_label(changed.status)))
    elif request.form.get("owner_id"):
        flash(_("Reassigned to %(name)s.", name=changed.owner.name or changed.owner.email))
    else:
        flash(_("Note added."))
    return redirect(url_for("web.action", action_id=action_id))


declare_body("web.add_after_photo", "PHOTO_MAX_BYTES", multipart=True)


@bp.route(f"/actions/{ACTION_ID}/photo", methods=["POST"])
@login_required
def add_after_photo(action_id):
    """The "after" photo, sent by the page's own form and checked by the API's own schema;
    the form's id makes a resend harmless."""
    photo = request.files.get("photo")
    if photo is None or not photo.filename:
        return render_action(action_id, _("Take or choose a photo first."), status=422)
    try:
        upload = ActionPhotoUploadSchema().load({
            "photo": photo, "id": request.form.get("photo_id", ""),
            "caption": request.form.get("caption", "")[:CAPTION_MAX]})
    except ValidationError:
        return render_action(action_id, _("The form was not filled in correctly."), status=422)
    try:
        actions.add_action_photo(current_user, action_id, upload["id"], photo.stream,
                                 caption=upload["caption"])
    except NotFound:
        abort(404)
    except tuple(PHOTO_PROBLEMS) as exc:
        problem = photo_problem(exc)
        if _action_or_404(action_id).status == "verified":
            problem = _("A verified action is final: it takes no more photos.")
        page, status = render_action(action_id, str(problem), status=exc.status)
        return page, status, exc.headers
    except Conflict:
        return render_action(action_id, str(FIELD_PROBLEMS["id"]), status=409)
    flash(_("The after photo is added."))
    return redirect(url_for("web.action", action_id=action_id))
