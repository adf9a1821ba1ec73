"""The JSON API under /api/v1: one blueprint per resource."""
import http

import flask_smorest
from flask import request
from flask_login import current_user
from marshmallow import RAISE
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.datastructures import CombinedMultiDict
from werkzeug.exceptions import BadRequest, Unauthorized, UnsupportedMediaType
from werkzeug.routing import BaseConverter, IntegerConverter, ValidationError

from ..extensions import rest_api
from ..request_bodies import declare_body
from ..schemas.base import ID_RANGE, TextArgs, document_rules
from ..schemas.checklists import ID_MAX, IDENTIFIER
from ..schemas.errors import ErrorSchema
from ..services.org import CODE, CODE_MAX

PREFIX = "/api/v1"
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait before sending it again.",
                               "required": True, "schema": {"type": "integer", "minimum": 0,
                                                            "maximum": 3600}}}
WRITE_METHODS = {"POST", "PUT", "PATCH"}


class ArgumentsParser(FlaskParser):
    """webargs, reading a JSON body through Flask (the app's JSON provider): the
    blueprint's guard has parsed and checked it already, so it is not parsed twice.
    A multipart/form-data body is one location, "multipart": its fields and its
    files together, as the document describes it (one request body). A query
    parameter the endpoint does not know is refused (422 naming it), as an unknown
    field of a body is: a misspelt filter must not silently list everything."""

    __location_map__ = dict(FlaskParser.__location_map__, multipart="load_multipart")
    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE,
                                   "querystring": RAISE}

    def _raw_load_json(self, req):
        return req.get_json() if is_json_request(req) else core.missing

    def load_multipart(self, req, schema):
        return self._makeproxy(CombinedMultiDict([req.form, req.files]), schema)


class IdConverter(IntegerConverter):
    """<id:name> in a route: a database id, 1 to 2^31 - 1 (ids are 32-bit in the
    database). Any other number is no URL of ours: 404, never a database error."""

    def __init__(self, url_map):
        super().__init__(url_map, min=ID_RANGE.min, max=ID_RANGE.max)


class IdentifierConverter(BaseConverter):
    """<identifier:name> in a route: a checklist's id, as checklists/schema.json has it
    (its pattern and its length)."""

    regex = IDENTIFIER["pattern"].removeprefix("^").removesuffix("$")

    def to_python(self, value):
        if len(value) > ID_MAX:
            raise ValidationError()  # no URL of ours: 404
        return value


class CodeConverter(BaseConverter):
    """<code:name> in a route: a region's or location's code, as services/org.py has it.
    Anything else (a NUL, a 100-character string) is no URL of ours: 404."""

    regex = CODE.pattern.removeprefix("^").removesuffix("$")


CONVERTERS = {
    "id": (IdConverter, {"type": "integer", "minimum": ID_RANGE.min, "maximum": ID_RANGE.max}),
    "identifier": (IdentifierConverter, {"type": "string", "pattern": IDENTIFIER["pattern"],
                                         "maxLength": ID_MAX}),
    "code": (CodeConverter, {"type": "string", "pattern": CODE.pattern, "maxLength": CODE_MAX}),
}


def _document_converters(api):
    """Tell the API, once for the process, how to document each converter's path parameters:
    every app's document (api.init_app, once per app) is made with what is registered here."""
    for converter, schema in CONVERTERS.values():
        api.register_converter(converter, lambda _converter, schema=schema: schema)


_document_converters(rest_api)


# The query an endpoint that declares none takes: nothing (anything in it is unknown, 422).
NO_QUERY = TextArgs.from_dict({}, name="NoQuery")()


class Blueprint(flask_smorest.Blueprint):
    """A resource's blueprint. Its document names, besides what each view declares,
    the errors every endpoint of its kind can answer, all in the API's error shape:
    401 unless public, 404 where the path names an object, 422 (a query parameter or
    a field it does not know, or a value it does not take), and for writes 400 (a body
    that does not parse), 413 and 415. `public` names the views that need no sign-in."""

    ARGUMENTS_PARSER = ArgumentsParser()
    DEFAULT_LOCATION_CONTENT_TYPE_MAPPING = {
        **flask_smorest.Blueprint.DEFAULT_LOCATION_CONTENT_TYPE_MAPPING,
        "multipart": "multipart/form-data",
    }

    def __init__(self, *args, public=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.public = set(public)
        self.query_readers = set()  # the (view, METHOD)s that declare query arguments
        self._prepare_doc_cbks.append(self._prepare_errors_doc)

    def add_url_rule(self, rule, endpoint=None, view_func=None, *args, **kwargs):
        super().add_url_rule(rule, endpoint, view_func, *args, **kwargs)
        endpoint = self._endpoints[-1]
        for method, doc in self._docs[endpoint].items():
            if method == "parameters":
                continue
            if any(argument["in"] == "query"
                   for argument in doc.get("arguments", {}).get("parameters", [])):
                self.query_readers.add((endpoint, method.upper()))
            errors = [] if endpoint in self.public else [401]
            if "<" in rule:
                errors.append(404)
            errors.append(422)
            if method.upper() in WRITE_METHODS:
                errors += [400, 413, 415]
            doc["errors"] = {"public": endpoint in self.public, "statuses": errors}

    def check_query(self, view, method):
        """Refuse (422, naming them) the query parameters of a view that declares none:
        a misspelt filter must not silently list everything. The views that declare
        query arguments refuse the ones they do not know themselves (ArgumentsParser)."""
        method = "GET" if method == "HEAD" else method
        if request.args and (view, method) not in self.query_readers:
            self.ARGUMENTS_PARSER.parse(NO_QUERY, request, location="query")

    def error(self, status, description, **kwargs):
        """Document an error answer of a view, in the API's error shape."""
        return self.alt_response(status, schema=ErrorSchema, description=description, **kwargs)

    def unavailable(self, description):
        """Document a 503: the same request may succeed after Retry-After seconds."""
        return self.error(503, description, headers=RETRY_AFTER)

    @staticmethod
    def _prepare_errors_doc(doc, doc_info, **_kwargs):
        errors = doc_info.get("errors")
        if errors is None:
            return doc
        responses = doc.setdefault("responses", {})
        for status in errors["statuses"]:
            if status not in responses and str(status) not in responses:
                responses[status] = http.HTTPStatus(status).name
        if errors["public"]:
            doc["security"] = []
        return doc


def resource_blueprint(name, import_name, url_prefix, *, description="", public=(), body="json",
                       body_limit="MAX_JSON_BYTES"):
    """A blueprint for one resource. Every endpoint requires a signed-in user, except
    the view functions named in `public`, and refuses query parameters it does not
    declare; writes must carry `body` ("json" or "multipart"), and JSON bodies must
    parse. Bodies larger than the setting named by `body_limit` (plus the multipart
    overhead) are refused with 413 before they are read (see request_bodies.py)."""
    blp = Blueprint(name, import_name, url_prefix=PREFIX + url_prefix, description=description,
                    public=public)
    declare_body(name, body_limit, multipart=body == "multipart")

    @blp.before_request
    def guard():
        view = request.endpoint.removeprefix(f"{blp.name}.")
        if view not in blp.public and not current_user.is_authenticated:
            raise Unauthorized("Sign in first: send 'Authorization: Bearer <token>'.")
        blp.check_query(view, request.method)
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


def url_converters():
    """The converters of our routes by name (create_app gives them to the app's URL map,
    so that pages use them too)."""
    return {name: converter for name, (converter, _) in CONVERTERS.items()}


def register_resources(api):
    from . import actions, audits, auth, checklists, exports, locations, photos, reports

    document_rules(api.ma_plugin.converter)  # the converter is the app's (init_app made it)
    for blp in (auth.blp, checklists.blp, locations.blp, audits.blp, photos.blp, actions.blp,
                photos.action_blp, reports.blp, exports.blp):
        api.register_blueprint(blp)
    # flask-smorest's own pagination header (unused here: pages are in the body).
    api.spec.components.schemas.pop("PaginationMetadata", None)
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.options["security"] = [{"bearer": []}]
