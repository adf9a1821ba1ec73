"""A service error carries its HTTP status; the API and the pages both read it there, so a
new kind of error (a subclass) answers as its nearest kind does, never a 500."""
import pytest

from audit_server.api.errors import handle_service_error
from audit_server.services import errors
from audit_server.web.actions import PHOTO_PROBLEMS, photo_problem


def every_service_error(cls=errors.ServiceError):
    yield cls
    for subclass in cls.__subclasses__():
        yield from every_service_error(subclass)


@pytest.mark.parametrize("error", list(every_service_error()), ids=lambda cls: cls.__name__)
def test_every_service_error_has_an_error_status(error):
    assert 400 <= error.status < 600


class DamagedInAnotherWay(errors.InvalidInput):
    """An error the services might add one day."""


class TooManyPixelsInAnotherWay(errors.ImageTooBig):
    pass


@pytest.mark.parametrize("exc, status", [
    (DamagedInAnotherWay("No."), 422), (TooManyPixelsInAnotherWay("No."), 422),
    (errors.Unavailable("Busy.", retry_after=3), 503), (errors.Conflict("Taken."), 409)])
def test_the_api_answers_a_service_error_with_its_status(app, exc, status):
    with app.test_request_context("/api/v1/audits"):
        response = handle_service_error(exc)
    assert response.status_code == status
    assert response.get_json()["error"]["code"] == exc.code
    if isinstance(exc, errors.Unavailable):
        assert response.headers["Retry-After"] == "3"


def test_a_page_names_a_photo_refusal_by_its_nearest_kind():
    assert photo_problem(DamagedInAnotherWay("No.")) is PHOTO_PROBLEMS[errors.InvalidInput]
    assert photo_problem(TooManyPixelsInAnotherWay("No.")) is PHOTO_PROBLEMS[errors.ImageTooBig]
    assert photo_problem(errors.TooLarge("No.")) is PHOTO_PROBLEMS[errors.TooLarge]
