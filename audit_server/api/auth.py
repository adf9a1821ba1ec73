from flask import current_app, request
from flask_login import current_user

from ..schemas.auth import TokenInfoSchema, TokenRequestSchema, TokenSchema
from ..services import accounts
from ..throttling import throttled
from ..web.security import bearer_token
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
    name = credentials.get("name") or request.user_agent.string
    token, expires_at = accounts.issue_token(user, current_app.config["API_TOKEN_HOURS"], name)
    return {"token": token, "expires_at": expires_at}


@blp.route("/token", methods=["DELETE"])
@blp.response(204)
def revoke_this_token():
    """Revoke the bearer token of this request (an API client signing out): it is refused
    with 401 from now on. A request signed in by a browser session revokes nothing."""
    token = bearer_token()
    if token:
        accounts.revoke_token_value(token)


@blp.route("/tokens")
@blp.response(200, TokenInfoSchema(many=True))
def tokens():
    """The caller's own unexpired API tokens, newest first (never their values)."""
    return accounts.list_tokens(current_user)


@blp.route("/tokens/<id:token_id>", methods=["DELETE"])
@blp.response(204)
def revoke_token(token_id):
    """Revoke one of the caller's tokens (an admin: anybody's); it is refused with 401 at
    once. 404 for a token that is not the caller's (unless an admin) or does not exist."""
    accounts.revoke_token(current_user, token_id)
