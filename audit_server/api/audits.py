from functools import partial

from flask_login import current_user

from ..schemas.audits import EXAMPLE_SUBMISSION, AuditQuerySchema, AuditSchema, AuditSubmissionSchema
from ..schemas.common import page_of, paginated
from ..services import audits
from . import resource_blueprint

blp = resource_blueprint("audits", __name__, "/audits", description="Audits")


@blp.route("", methods=["POST"])
@blp.arguments(AuditSubmissionSchema(), example=EXAMPLE_SUBMISSION)
@blp.response(201, AuditSchema)
@blp.alt_response(200, schema=AuditSchema, description="The same audit was already stored.")
@blp.error(409, "This id was used for an audit with other content.")
@blp.error(422, "Not a valid audit: a field, an answer for this checklist, or a location you "
                "cannot audit (each named in fields).")
@blp.unavailable("Audits of the same location kept changing its corrective actions at the same "
                 "moment: send it again after Retry-After seconds.")
def submit(submission):
    """Submit an audit. Safe to retry: the client's id makes it idempotent."""
    audit, created = audits.submit_audit(current_user, submission)
    return audit, 201 if created else 200


@blp.route("")
@blp.arguments(AuditQuerySchema(), location="query")
@blp.response(200, page_of(AuditSchema))
def list_audits(args):
    """The audits the current user may see, newest first."""
    return paginated(partial(audits.list_audits, current_user), args)


@blp.route("/<uuid:audit_id>")
@blp.response(200, AuditSchema)
def get_audit(audit_id):
    return audits.read_audit(current_user, audit_id)
