"""Spanish and English: the person's choice, else the browser's Accept-Language."""
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_date, format_time
from flask import current_app, request, session
from flask_babel import get_locale
from flask_login import current_user

from ..extensions import babel


def select_locale():
    languages = current_app.config["LANGUAGES"]
    chosen = session.get("locale")
    if chosen in languages:
        return chosen
    if current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def localized(text):
    """A checklist text ({"es": ..., "en": ...}) in the page's language."""
    if not isinstance(text, dict):
        return text or ""
    return text.get(str(get_locale().language)) or text.get("en") or next(iter(text.values()), "")


def _on_the_clock_of(moment, timezone):
    try:
        zone = ZoneInfo(timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    return moment.astimezone(zone)


def local_date(moment, timezone):
    """A date in a location's time zone (UTC when unknown), written the reader's way."""
    if moment is None:
        return ""
    return format_date(_on_the_clock_of(moment, timezone), format="medium", locale=get_locale())


def local_datetime(moment, timezone):
    """A date and time (to the minute) in a location's time zone, written the reader's way."""
    if moment is None:
        return ""
    local = _on_the_clock_of(moment, timezone)
    return (format_date(local, format="medium", locale=get_locale()) + ", "
            + format_time(local, format="short", locale=get_locale()))


def init_app(app):
    babel.init_app(app, locale_selector=select_locale)
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.filters["local_date"] = local_date
    app.jinja_env.filters["local_datetime"] = local_datetime
    app.jinja_env.globals["current_language"] = lambda: str(get_locale().language)
