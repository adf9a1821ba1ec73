"""What each type of checklist item is, in one table.

An entry says how an answer to an item of its type is checked, how it scores (and so
when it fails), what a checklist file must say beyond checklists/schema.json, and which
widget the audit page draws for it. Everything else reads the table: answer validation
(checklists.py), the scoring engine (scoring.py), the audit page (templates/audits/
_checklist.html draws `widget(item)`) and static/js/audit-form.js, which reads and writes
each widget kind and asks the page, never its own rules, which entered values fail.

Adding a type: an entry in TYPES, its name in the item "type" enum of schema.json (with
the settings it takes; tests/unit/test_item_types.py fails while the two disagree) and,
if no widget kind fits, a widget in _checklist.html and in audit-form.js's `widgets`.
"""
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache

from flask_babel import lazy_gettext as _l

from ..schemas.base import TEXT_MAX, is_number

NA = "na"
HALF = Fraction(1, 2)
ZERO, ONE = Fraction(0), Fraction(1)


@lru_cache(maxsize=4096)
def exact(number):
    """A number as written (0.1 is 1/10, not the nearest binary float), as a Fraction."""
    return Fraction(str(number))


def is_failure(fraction):
    """An answer fails when it earns less than half of its item's weight."""
    return 2 * fraction.numerator < fraction.denominator


@dataclass(frozen=True)
class Choice:
    """One button of a "choices" widget: its form value (also in the input's id), the
    answer it gives, its label (a translated string or a checklist text) and whether
    that answer fails."""
    form_value: str
    value: object
    label: object
    fails: bool


@dataclass(frozen=True)
class ItemType:
    """One item type. `value_error(item, value)` says why a value (neither missing nor
    N/A) is not an answer; `fraction(item, value)` is the share (0..1) of the weight a
    valid answer earns (None: the type is never scored); `scored_when(item)` whether an
    item of the type counts at all (besides a weight above 0); `settings` the item keys
    only this type takes."""
    name: str
    widget: str  # "choices", "number" or "text": the kinds _checklist.html and audit-form.js draw
    value_error: Callable
    fraction: Callable | None = None
    scored_when: Callable = lambda item: True
    settings: frozenset = frozenset()
    definition_errors: Callable = lambda item: []  # [(JSON path below the item, message)]
    choices: Callable = lambda item: []  # [(form value, answer, label)] of a "choices" widget
    number_limit: float | None = None  # "number" widgets: the largest answer unless `max` says
    required_by_default: bool = True
    blank_is_unanswered: bool = False  # an answer of only spaces counts as none
    may_be_a_condition: bool = True  # whether another item's applies_if may depend on it


# yes/no

def _yes_no_error(item, value):
    return None if isinstance(value, bool) else "Must be true or false."


def _yes_no_fraction(item, value):
    return ZERO if value is (item.get("bad_answer", "no") == "yes") else ONE


def _yes_no_choices(item):
    return [("yes", True, _l("Yes")), ("no", False, _l("No"))]


# rating: 1 to 5

RATINGS = range(1, 6)


def _rating_error(item, value):
    if is_number(value) and value == int(value) and int(value) in RATINGS:
        return None
    return f"Must be a whole number from {RATINGS[0]} to {RATINGS[-1]}."


def _rating_fraction(item, value):
    return Fraction(int(value) - RATINGS[0], RATINGS[-1] - RATINGS[0])


def _rating_choices(item):
    return [(str(n), n, str(n)) for n in RATINGS]


# count and seconds: a number, scored by bands

def _limit(item):
    return item.get("max", TYPES[item["type"]].number_limit)


def _count_error(item, value):
    if not (is_number(value) and value == int(value)):
        return "Must be a whole number."
    return _range_error(item, value)


def _seconds_error(item, value):
    if not is_number(value):
        return "Must be a number of seconds."
    return _range_error(item, value)


def _range_error(item, value):
    limit = _limit(item)
    return None if 0 <= value <= limit else f"Must be between 0 and {limit:g}."


def _band_fraction(item, value):
    number = exact(value)
    for band in item["bands"]:
        if "max" not in band or number <= exact(band["max"]):
            return exact(band["fraction"])
    return ZERO


def _band_errors(item):
    bands = item.get("bands", [])
    maxima = [b["max"] for b in bands if "max" in b]
    errors = []
    if bands and ("max" in bands[-1] or len(maxima) != len(bands) - 1):
        errors.append((".bands", "only the last band, and it alone, must have no max"))
    if maxima != sorted(set(maxima)):
        errors.append((".bands", "band maxima must increase"))
    return errors


def band_ranges(item):
    """A banded item's bands as (above, up_to, fraction) (None: unbounded): a value v is
    in a band when above < v <= up_to, and earns its fraction of the weight. Empty when
    the item is not scored."""
    if not is_scored(item):
        return []
    ranges, above = [], None
    for band in item["bands"]:  # the last band has no max (see _band_errors)
        ranges.append((above, band.get("max"), exact(band["fraction"])))
        above = band.get("max")
    return ranges


def failing_ranges(item):
    """The numbers that fail a banded item, as [above, up_to] pairs (see band_ranges)."""
    return [[above, up_to] for above, up_to, fraction in band_ranges(item) if is_failure(fraction)]


# choice: one of the item's options, scored by their points

def _choice_error(item, value):
    values = [o["value"] for o in item["options"]]
    return None if value in values else "Must be one of: " + ", ".join(values) + "."


def _choice_fraction(item, value):
    best = max(exact(o["points"]) for o in item["options"])
    points = next(exact(o["points"]) for o in item["options"] if o["value"] == value)
    return points / best if best else ZERO


def _option_errors(item):
    options = item.get("options", [])
    errors = []
    if len({o["value"] for o in options}) != len(options):
        errors.append((".options", "option values must be unique"))
    if options and not any(o["points"] > 0 for o in options):
        errors.append((".options", "at least one option must earn points"))
    return errors


def _choice_choices(item):
    return [(o["value"], o["value"], o["label"]) for o in item["options"]]


# text: never scored

def _text_error(item, value):
    if not isinstance(value, str):
        return "Must be text."
    if len(value) > TEXT_MAX:
        return f"Must be at most {TEXT_MAX} characters."
    return None


TYPES = {t.name: t for t in (
    ItemType("yes_no", "choices", _yes_no_error, _yes_no_fraction,
             settings=frozenset({"bad_answer"}), choices=_yes_no_choices),
    ItemType("rating", "choices", _rating_error, _rating_fraction, choices=_rating_choices),
    ItemType("count", "number", _count_error, _band_fraction,
             scored_when=lambda item: "bands" in item, settings=frozenset({"bands", "max"}),
             definition_errors=_band_errors, number_limit=1000),
    ItemType("seconds", "number", _seconds_error, _band_fraction,
             scored_when=lambda item: "bands" in item, settings=frozenset({"bands", "max"}),
             definition_errors=_band_errors, number_limit=86400),
    ItemType("choice", "choices", _choice_error, _choice_fraction,
             settings=frozenset({"options"}), definition_errors=_option_errors,
             choices=_choice_choices),
    ItemType("text", "text", _text_error, required_by_default=False, blank_is_unanswered=True,
             may_be_a_condition=False),
)}


def type_of(item):
    return TYPES[item["type"]]


def is_scored(item):
    kind = type_of(item)
    return kind.fraction is not None and kind.scored_when(item) and item.get("weight", 1) > 0


def item_fraction(item, value):
    """The share (0..1) of a scored item's weight that a valid answer earns."""
    kind = type_of(item)
    if kind.fraction is None:
        raise ValueError(f"item type {kind.name} is not scored")
    return kind.fraction(item, value)


def fails(item, value):
    """Whether an answer fails its item (N/A and no answer never do)."""
    return (value is not None and value != NA and is_scored(item)
            and is_failure(item_fraction(item, value)))


def is_unanswered(item, value):
    return value is None or (type_of(item).blank_is_unanswered and isinstance(value, str)
                             and not value.strip())


def is_required(item):
    return item.get("required", type_of(item).required_by_default)


def value_error(item, value):
    """Why a value (neither missing nor N/A) is not a valid answer to an item, or None."""
    return type_of(item).value_error(item, value)


def definition_errors(item):
    """What the item's type asks of an item beyond the schema: [(path below it, message)]."""
    return type_of(item).definition_errors(item)


def widget(item):
    """What the audit page draws for an item: {"kind": ...} and what that kind needs.

    choices: the buttons (N/A last when allowed), each saying whether its answer fails;
    number: min, max, step and the failing ranges; text: the maximum length.
    """
    kind = type_of(item)
    if kind.widget == "choices":
        choices = [Choice(form, value, label, fails(item, value))
                   for form, value, label in kind.choices(item)]
        if item.get("na_allowed"):
            choices.append(Choice(NA, NA, _l("N/A"), False))
        return {"kind": "choices", "choices": choices}
    if kind.widget == "number":
        return {"kind": "number", "min": 0, "max": _limit(item), "step": 1,
                "fails": failing_ranges(item)}
    return {"kind": "text", "maxlength": TEXT_MAX}
