"""Exports of audits and corrective actions, as CSV (streamed as it is written) or as
an Excel workbook (written to a temporary file, then streamed): the filters of the
report, scoped like everything else. A bad filter is a JSON 422 before any byte."""
import uuid

from flask import Response, send_file, stream_with_context, url_for
from flask_babel import get_locale
from flask_login import current_user

from ..schemas.exports import ExportQuerySchema
from ..services import exports
from . import resource_blueprint

blp = resource_blueprint("exports", __name__, "/exports", description="Exports")

CSV = "text/csv"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SAMPLE_AUDIT, SAMPLE_ACTION = uuid.UUID(int=0), 2**31 - 1  # ids that show in a URL as they are
FILE = {"type": "string", "format": "binary"}
BAD_FILTER = ("A filter it cannot take (each named in fields): an unknown checklist, a region "
              "or location you see nothing of, or a period that is not one.")
SHEET_TOO_SMALL = "For .xlsx also: more rows than an Excel sheet holds (named as period)."


def _filter(args):
    return exports.export_filter(
        current_user, args.get("period"), args.get("from_"), args.get("to"), args.get("tz"),
        args.get("checklist_id"), args.get("region"), args.get("location_id"))


def _url_of(endpoint, name, sample):
    """A function of an id giving the absolute URL of that page (url_for once, not per row)."""
    prefix, suffix = url_for(endpoint, **{name: sample}, _external=True).split(str(sample))
    return lambda value: f"{prefix}{value}{suffix}"


def _audit_rows(export):
    return exports.audit_export(export, _url_of("web.audit", "audit_id", SAMPLE_AUDIT))


def _action_rows(export):
    return exports.action_export(export, str(get_locale().language),
                                 _url_of("web.audit", "audit_id", SAMPLE_AUDIT),
                                 _url_of("web.action", "action_id", SAMPLE_ACTION))


def _csv(kind, export, header_rows):
    header, rows = header_rows
    response = Response(stream_with_context(exports.csv_chunks(header, rows)),
                        mimetype=CSV, content_type=f"{CSV}; charset=utf-8")
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{exports.file_name(kind, export, "csv")}"')
    return response


def _xlsx(kind, export, header_rows):
    header, rows = header_rows
    output = exports.xlsx_file(kind, header, rows)
    return send_file(output, mimetype=XLSX, as_attachment=True,
                     download_name=exports.file_name(kind, export, "xlsx"))


@blp.route("/audits.csv")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, FILE, content_type=CSV, description="One row per audit, streamed.")
@blp.error(422, BAD_FILTER)
def audits_csv(args):
    """The audits of the filters (default: the last 30 days), oldest first, as CSV
    (UTF-8 with a byte order mark): one row per audit, then a column per checklist item."""
    export = _filter(args)
    return _csv("audits", export, _audit_rows(export))


@blp.route("/audits.xlsx")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, FILE, content_type=XLSX, description="One row per audit.")
@blp.error(422, f"{BAD_FILTER} {SHEET_TOO_SMALL}")
def audits_xlsx(args):
    """The audits of the filters as an Excel workbook: the columns of audits.csv."""
    export = _filter(args)
    return _xlsx("audits", export, _audit_rows(export))


@blp.route("/actions.csv")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, FILE, content_type=CSV, description="One row per corrective action, streamed.")
@blp.error(422, BAD_FILTER)
def actions_csv(args):
    """The corrective actions opened in the period (default: the last 30 days) at the
    filters' locations, for their checklists, oldest first, as CSV."""
    export = _filter(args)
    return _csv("actions", export, _action_rows(export))


@blp.route("/actions.xlsx")
@blp.arguments(ExportQuerySchema(), location="query")
@blp.response(200, FILE, content_type=XLSX, description="One row per corrective action.")
@blp.error(422, f"{BAD_FILTER} {SHEET_TOO_SMALL}")
def actions_xlsx(args):
    """The corrective actions of actions.csv as an Excel workbook."""
    export = _filter(args)
    return _xlsx("actions", export, _action_rows(export))
