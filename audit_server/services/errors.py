"""Errors the services raise; the API and the web pages translate them.

Each kind says the HTTP status it answers as (`status`) and the headers that go with it
(`headers`), so that both layers answer a kind alike, and a new kind (a subclass) answers
as the kind it refines."""


class ServiceError(Exception):
    code = "error"
    status = 400

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}

    @property
    def headers(self):
        """The HTTP headers that go with this error's answer."""
        return {}


class InvalidInput(ServiceError):
    """The request is well formed but its content is not acceptable."""

    code = "validation_error"
    status = 422


class NotFound(ServiceError):
    """The object does not exist, or the user may not see it (never tell which)."""

    code = "not_found"
    status = 404


class Forbidden(ServiceError):
    """The user may see the object but not do this to it."""

    code = "forbidden"
    status = 403


class Conflict(ServiceError):
    """The request contradicts what is stored (same id, other content; stale version)."""

    code = "conflict"
    status = 409


class TooLarge(ServiceError):
    """The upload is larger than allowed."""

    code = "payload_too_large"
    status = 413


class UnsupportedType(ServiceError):
    """The upload's content is not of a kind we accept (judged by content, not name)."""

    code = "unsupported_media_type"
    status = 415


class ImageTooBig(InvalidInput):
    """The image is well formed, but has more pixels, or would take more memory to
    decode, than the server allows."""


class Unavailable(ServiceError):
    """The server cannot do this right now; the same request may succeed after
    `retry_after` seconds (503 with Retry-After)."""

    code = "unavailable"
    status = 503

    def __init__(self, message, fields=None, *, retry_after):
        super().__init__(message, fields)
        self.retry_after = retry_after

    @property
    def headers(self):
        return {"Retry-After": str(self.retry_after)}


class StoreUnavailable(Unavailable):
    """The photo store (its folder or its S3 endpoint) does not answer or cannot write
    now: nothing was stored, and the same request may succeed after `retry_after`
    seconds, once the store is back."""

    def __init__(self, message, *, retry_after):
        super().__init__(message, {"photo": [message]}, retry_after=retry_after)
