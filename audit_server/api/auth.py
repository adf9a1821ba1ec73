from flask import current_app

from ..schemas.auth import TokenRequestSchema, TokenSchema
from ..services import accounts
from ..throttling import throttled
from . import resource_blueprint
from .errors import error_response

blp = resource_blueprint("auth", __name__, "/auth", description="API tokens", public=("token",))


@blp.route("/token", methods=["POST"])
@throttled
@blp.arguments(TokenRequestSchema())
@blp.response(201, TokenSchema)
@blp.error(401, "Wrong email or password.")
@blp.error(429, "Too many failed sign-ins for this account or from this address (Retry-After says for how long).")
def token(credentials):
    """Exchange an email and password for a bearer token."""
    user = accounts.authenticate(credentials["email"], credentials["password"])
    if user is None:
        return error_response(401, "Wrong email or password.", code="invalid_credentials")
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"])
    return {"token": token, "expires_at": expires_at}
