"""The weekly digest e-mail, written for its reader: the subject, a plain-text part and an
HTML part (templates/digest/), in the reader's language (flask_babel.force_locale), with
absolute links made from PUBLIC_BASE_URL, as a page of the app writes its figures
(web/figures.py). What the digest holds is services/digest.py's."""
from dataclasses import dataclass
from urllib.parse import urlsplit

from babel.dates import format_interval, format_timedelta
from flask import current_app, render_template
from flask_babel import force_locale, format_date, get_locale, ngettext
from flask_babel import gettext as _

from ..services import cadence
from ..services.errors import InvalidInput
from .figures import shown, written
from .i18n import localized


def public_base_url(config):
    """PUBLIC_BASE_URL, checked: an http(s) address with a host. InvalidInput naming it
    when it is missing or not one."""
    url = config.get("PUBLIC_BASE_URL")
    if not url:
        message = ("PUBLIC_BASE_URL is not set: the digest's links need the address people "
                   "open Momento at, e.g. PUBLIC_BASE_URL=https://momento.example.com")
        raise InvalidInput(message, {"PUBLIC_BASE_URL": ["is not set."]})
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        message = (f"PUBLIC_BASE_URL must be an http or https address such as "
                   f"https://momento.example.com, not {url!r}")
        raise InvalidInput(message, {"PUBLIC_BASE_URL": ["is not an http(s) address."]})
    return url


class Links:
    """Absolute URLs of the app's pages under a base URL (which may have a path): the
    app's own routes, built away from any request."""

    def __init__(self, base_url):
        parts = urlsplit(base_url)
        self.adapter = current_app.url_map.bind(parts.netloc, script_name=parts.path or "/",
                                                url_scheme=parts.scheme)

    def __call__(self, endpoint, **values):
        return self.adapter.build(endpoint, values, force_external=True)


def language_of(user):
    """The language a person's e-mail is written in: theirs, else the app's default."""
    languages = current_app.config["LANGUAGES"]
    return user.locale if user.locale in languages else current_app.config["BABEL_DEFAULT_LOCALE"]


@dataclass(frozen=True)
class Written:
    language: str
    subject: str
    text: str
    html: str


def headline(summary, checklists):
    """The headline figures of a region's summary as (label, Shown, name) rows: each
    checklist's mean score, audits, locations audited, critical failures, actions closed
    on time; each beside the week before."""
    rows = [(localized(checklists[row["checklist_id"]]["title"]), row["score"], "score")
            for row in summary["scores"]]
    rows += [(_("Audits"), summary["audits"], "audits"),
             (_("Locations audited"), summary["locations_audited"], "locations_audited"),
             (_("Critical failures"), summary["critical_failures"], "critical_failures"),
             (_("Actions closed on time"), summary["actions"]["closed_on_time"], "closed_on_time")]
    return [(label, shown(figure, name), name) for label, figure, name in rows]


# The page that starts an audit of a checklist's kind (another kind: home, at the location).
START = {"walk_in": "web.walk_in", "phone": "web.phone"}


def due_text(row):
    """What the digest says of a checklist's state at a location (services/cadence), with
    its dates: "Overdue by 3 days (due on 27 Nov 2026)", "Due: never done", "Due today",
    "Done on 30 Nov 2026 (next due on 7 Dec 2026)"."""
    if row["state"] == cadence.DUE:
        return _("Due: never done") if row["never_audited"] else _("Due today")
    if row["state"] == cadence.OVERDUE:
        state = ngettext("Overdue by %(num)d day", "Overdue by %(num)d days", row["overdue_days"])
        when = _("due on %(date)s", date=format_date(row["next_due"], "medium"))
    else:
        state = _("Done on %(day)s", day=format_date(row["last_audit_date"], "medium"))
        when = _("next due on %(date)s", date=format_date(row["next_due"], "medium"))
    return f"{state} ({when})"


def render(digest, links):
    """The digest written in its reader's language: a Written."""
    language = language_of(digest.user)
    with force_locale(language):
        locale = get_locale()
        week = digest.week
        dates = format_interval(week.monday, week.sunday, "yMMMd", locale=locale)
        period_query = {"from": week.monday.isoformat(), "to": week.sunday.isoformat(),
                        "tz": digest.period.timezone}
        context = {
            "d": digest, "language": language, "link": links, "dates": dates, "week": str(week),
            "headline": headline, "written": written, "localized": localized,
            "period_query": period_query, "shown": shown, "due_text": due_text,
            "start_link": lambda row: links(START.get(row["kind"], "web.home"),
                                            location=row["location"]["id"]),
            "ago": lambda delta: format_timedelta(delta, granularity="hour", locale=locale),
        }
        subject = _("Momento: your week of %(dates)s", dates=dates)
        return Written(language, subject, render_template("digest/digest.txt", **context),
                       render_template("digest/digest.html", **context))
