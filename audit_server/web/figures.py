"""How the report pages write a figure: its value the reader's way, the previous period's,
and the change with its direction, which says "better" or "worse" by what the figure
measures (a higher score is better, fewer overdue actions are better, more audits are
neither).

The services give percentages with one decimal (87.5) and changes in points; the pages
write whole numbers (hours to close keep one decimal) and changes as signed points
("+3 pts"). A change that rounds to nothing is "no change"."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from . import bp

MINUS = "\u2212"
NO_VALUE = "—"


@dataclass(frozen=True)
class Unit:
    decimals: int
    value: str      # how a value is written, around its number %(n)s
    change: object  # how a change is written (points, for percentages)


PERCENT, HOURS, SECONDS, PLAIN = "%(n)s\u00a0%%", "%(n)s\u00a0h", "%(n)s\u00a0s", "%(n)s"
UNITS = {
    "percent": Unit(0, PERCENT, _l("%(n)s pts")),
    "count": Unit(0, PLAIN, PLAIN),
    "hours": Unit(1, HOURS, HOURS),
    "seconds": Unit(0, SECONDS, SECONDS),
}


@dataclass(frozen=True)
class Measure:
    unit: str
    better: int  # +1: higher is better; -1: lower is better; 0: neither


# What each figure of a report measures, by the name the report gives it.
MEASURES = {
    "score": Measure("percent", +1),
    "audits": Measure("count", 0),
    "locations_audited": Measure("count", +1),
    "critical_failures": Measure("count", -1),
    "open": Measure("count", -1),
    "overdue": Measure("count", -1),
    "closed": Measure("count", 0),
    "median_hours_to_close": Measure("hours", -1),
    "closed_on_time": Measure("percent", +1),
    "failure_rate": Measure("percent", -1),
    "calls": Measure("count", 0),
    "answered": Measure("percent", +1),
    "median_rings": Measure("count", -1),
    "within_3_rings": Measure("percent", +1),
    "median_hold_seconds": Measure("seconds", -1),
    "hold_30s_or_less": Measure("percent", +1),
    "two_plus_transfers": Measure("percent", -1),
    "not_my_department": Measure("percent", -1),
    "owned": Measure("percent", +1),
    "coverage": Measure("percent", +1),
}


@dataclass(frozen=True)
class Shown:
    """A figure as the page writes it. `direction` is "up", "down" or "same" (None when
    there is no change to tell: no value, or none in the previous period); `verdict` is
    "better" or "worse" (None when the measure has no better side, or nothing changed)."""

    value: str
    previous: str
    change: str
    direction: str | None
    verdict: str | None


def _rounded(number, decimals):
    return Decimal(str(number)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)


def _number(number, decimals):
    return format_decimal(number, format="#,##0.0" if decimals else "#,##0", locale=get_locale())


@bp.app_template_global()
def written(value, name):
    """A value of the figure `name`, the reader's way ("87 %", "12", "18.5 h"); — for none."""
    unit = UNITS[MEASURES[name].unit]
    if value is None:
        return NO_VALUE
    return str(unit.value % {"n": _number(_rounded(value, unit.decimals), unit.decimals)})


@bp.app_template_global()
def shown(figure, name):
    """A Figure ({"value", "previous", "change"}) of the measure `name`, as the page writes it."""
    measure = MEASURES[name]
    unit = UNITS[measure.unit]
    value, previous = written(figure["value"], name), written(figure["previous"], name)
    if figure["change"] is None:
        return Shown(value, previous, "", None, None)
    change = _rounded(figure["change"], unit.decimals)
    sign = "+" if change > 0 else MINUS if change < 0 else ""
    text = str(unit.change % {"n": sign + _number(change.copy_abs(), unit.decimals)})
    if change == 0:
        return Shown(value, previous, text, "same", None)
    up = change > 0
    verdict = None if measure.better == 0 else ("better" if up == (measure.better > 0) else "worse")
    return Shown(value, previous, text, "up" if up else "down", verdict)
