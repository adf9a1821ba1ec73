"""The JSON API under /api/v1: one blueprint per resource."""
import flask_smorest
from flask import request
from flask_login import current_user
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import BadRequest, Unauthorized, UnsupportedMediaType

from ..request_bodies import declare_body

PREFIX = "/api/v1"
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class ArgumentsParser(FlaskParser):
    """webargs, reading a JSON body through Flask (the app's JSON provider): the
    blueprint's guard has parsed and checked it already, so it is not parsed twice."""

    def _raw_load_json(self, req):
        return req.get_json() if is_json_request(req) else core.missing


class Blueprint(flask_smorest.Blueprint):
    ARGUMENTS_PARSER = ArgumentsParser()


def resource_blueprint(name, import_name, url_prefix, *, description="", public=(), body="json",
                       body_limit="MAX_JSON_BYTES"):
    """A blueprint for one resource. Every endpoint requires a signed-in user, except
    the view functions named in `public`; writes must carry `body` ("json" or
    "multipart"), and JSON bodies must parse. Bodies larger than the setting named by
    `body_limit` (plus the multipart overhead) are refused with 413 before they are read
    (see request_bodies.py)."""
    blp = Blueprint(name, import_name, url_prefix=PREFIX + url_prefix, description=description)
    public_endpoints = {f"{name}.{view}" for view in public}
    declare_body(name, body_limit, multipart=body == "multipart")

    @blp.before_request
    def guard():
        if request.endpoint not in public_endpoints and not current_user.is_authenticated:
            raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
        if request.method not in WRITE_METHODS:
            return
        if body == "json":
            if request.mimetype != "application/json":
                raise UnsupportedMediaType("Send the body as application/json.")
            if request.get_json(silent=True) is None:
                raise BadRequest("The request body is not valid JSON.")
        elif request.mimetype != "multipart/form-data":
            raise UnsupportedMediaType("Send the body as multipart/form-data.")

    return blp


def register_resources(api):
    from . import actions, audits, auth, checklists, locations, photos

    for blp in (auth.blp, checklists.blp, locations.blp, audits.blp, photos.blp, actions.blp,
                photos.action_blp):
        api.register_blueprint(blp)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
