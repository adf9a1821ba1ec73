"""How large a request body may be, decided before anything reads it.

Whatever reads a body first parses it with the limits in force at that moment, and the
first reader is often not the view: the CSRF check reads a form (for its token) before
any blueprint's guard or view runs. So the limits are properties of the request itself,
looked up by where it was routed: an endpoint, or a whole blueprint, declares the body
it takes with `declare_body`; any other request gets Flask's own MAX_CONTENT_LENGTH.
A limit set on a request (as Flask allows a view or a before_request to) wins over both.

A multipart body (a photo upload) may carry its file up to the setting it names, plus
MULTIPART_OVERHEAD for the boundaries and the small fields beside the file; each of
those fields is held in memory, so each is bounded by FIELD_MAX_BYTES and their number
by MULTIPART_MAX_PARTS. Files are spooled to a temporary file beyond 500 kB.
"""
import importlib.metadata
from dataclasses import dataclass

import flask
import werkzeug.formparser
from flask import current_app
from werkzeug.sansio import multipart

# Room beside a photo for the multipart boundaries and the small fields.
MULTIPART_OVERHEAD = 64 * 1024
# Werkzeug's multipart parser reads the body 64 KB at a time (MultiPartParser's
# buffer_size) and answers 413 as soon as the bytes it holds back between reads (what
# may be the start of a boundary, or of a part's headers) plus the next read exceed
# max_form_memory_size, in file parts too. So that limit must leave room for a whole
# read beside what is held back: twice a read. It also bounds each field.
MULTIPART_READ_BYTES = 64 * 1024
FIELD_MAX_BYTES = 2 * MULTIPART_READ_BYTES
# A photo form has the photo, its id, item and caption, and the page's CSRF token.
MULTIPART_MAX_PARTS = 8


@dataclass(frozen=True)
class DeclaredBody:
    setting: str  # the setting naming the largest JSON body, or the largest file
    multipart: bool

    def max_bytes(self, config):
        return config[self.setting] + (MULTIPART_OVERHEAD if self.multipart else 0)


_declared = {}


def declare_body(name, setting, *, multipart=False):
    """The body that requests routed to `name` (an endpoint, or a blueprint for all of
    its endpoints) may send: at most the setting `setting` names, in bytes."""
    _declared[name] = DeclaredBody(setting, multipart)


def _limit(name, declared):
    """A limit of the request: the value set on it, if a view (or a before_request) set one
    as Flask allows; else `declared(body)` for a request routed to a declared body, unless
    that is None; else Flask's (from the app's config)."""
    flask_limit = getattr(flask.Request, name)

    def get(request):
        body = request.declared_body
        if getattr(request, f"_{name}") is None and body is not None:
            value = declared(body)
            if value is not None:
                return value
        return flask_limit.fget(request)

    return property(get, flask_limit.fset, doc=flask_limit.__doc__)


class Request(flask.Request):
    """A request whose body limits follow from where it was routed (see the module)."""

    @property
    def declared_body(self):
        return _declared.get(self.endpoint) or _declared.get(self.blueprint)

    max_content_length = _limit("max_content_length", lambda body: body.max_bytes(current_app.config))
    max_form_memory_size = _limit("max_form_memory_size",
                                  lambda body: FIELD_MAX_BYTES if body.multipart else None)
    max_form_parts = _limit("max_form_parts",
                            lambda body: MULTIPART_MAX_PARTS if body.multipart else None)


class MultipartDecoder(multipart.MultipartDecoder):
    """Werkzeug's multipart decoder, holding back every beginning of a delimiter.

    Between reads, the decoder keeps the bytes that may begin the next delimiter. Werkzeug
    3.1.9 looks for them only within the length of "\r\n--<boundary>", so when a read ends
    between the two dashes of the closing "\r\n--<boundary>--", the "\r" is taken as the
    last byte of the last part (a file or a field gains a stray "\r": pallets/werkzeug
    issue 3285). Here the window is the closing delimiter's length.
    """

    def _last_partial_boundary_index(self, data):
        start = max(0, len(data) - len(b"\r\n--" + self.boundary + b"--"))
        breaks = [index for index in (data.find(b"\r", start), data.find(b"\n", start)) if index >= 0]
        return min(breaks, default=len(data))


# MultiPartParser makes its decoder by this name (there is no other way in). Both names
# are Werkzeug's own, not its public API (requirements.txt pins the version they were
# read in): if an upgrade drops either, the app refuses to start rather than go back,
# silently, to the decoder that corrupts uploads.
for _owner, _name in ((multipart.MultipartDecoder, "_last_partial_boundary_index"),
                       (werkzeug.formparser, "MultipartDecoder")):
    if not hasattr(_owner, _name):
        raise ImportError(f"Werkzeug {importlib.metadata.version('werkzeug')} has no "
                          f"{_owner.__name__}.{_name}, which request_bodies.py replaces: "
                          "check MultipartDecoder against this version of Werkzeug")
werkzeug.formparser.MultipartDecoder = MultipartDecoder
