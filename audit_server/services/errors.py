"""Errors the services raise; the API and the web pages translate them."""


class ServiceError(Exception):
    code = "error"

    def __init__(self, message, fields=None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class InvalidInput(ServiceError):
    """The request is well formed but its content is not acceptable."""

    code = "validation_error"


class NotFound(ServiceError):
    """The object does not exist, or the user may not see it (never tell which)."""

    code = "not_found"


class Forbidden(ServiceError):
    """The user may see the object but not do this to it."""

    code = "forbidden"


class Conflict(ServiceError):
    """The request contradicts what is stored (same id, other content; stale version)."""

    code = "conflict"


class TooLarge(ServiceError):
    """The upload is larger than allowed."""

    code = "payload_too_large"


class UnsupportedType(ServiceError):
    """The upload's content is not of a kind we accept (judged by content, not name)."""

    code = "unsupported_media_type"


class ImageTooBig(InvalidInput):
    """The image is well formed, but has more pixels, or would take more memory to
    decode, than the server allows."""


class Unavailable(ServiceError):
    """The server cannot do this right now; the same request may succeed after
    `retry_after` seconds (503 with Retry-After)."""

    code = "unavailable"

    def __init__(self, message, fields=None, *, retry_after):
        super().__init__(message, fields)
        self.retry_after = retry_after
