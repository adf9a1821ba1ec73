"""The scoring engine: a pure function of (checklist definition, answers).

Answers are `{item_id: value}` where value is True/False, a number, a string,
"na", or absent. Input is assumed valid (see checklists.validate_answers). What
each item type earns, and when it fails, is in item_types.py; this adds it up.
Arithmetic is exact (fractions) so the same audit always gets the same score.
"""
from dataclasses import dataclass, field
from fractions import Fraction
from math import floor, lcm

from .item_types import HALF, NA, ZERO, band_ranges, exact, is_failure, is_scored, item_fraction, type_of


def iter_items(definition):
    """Every (section, item) of a checklist definition, in order."""
    for section in definition["sections"]:
        for item in section["items"]:
            yield section, item


def weight(item):
    return exact(item.get("weight", 1)) if is_scored(item) else ZERO


def applies(item, answers, applicable):
    """Whether an item is asked, given the answers and which earlier items apply."""
    condition = item.get("applies_if")
    if not condition:
        return True
    other = condition["item"]
    value = answers.get(other)
    return applicable.get(other, False) and value is not None and value != NA and (
        value == condition["equals"] and type(value) is type(condition["equals"])
        or _same_number(value, condition["equals"])
    )


def _same_number(a, b):
    numeric = (int, float)
    return (
        isinstance(a, numeric) and isinstance(b, numeric)
        and not isinstance(a, bool) and not isinstance(b, bool) and a == b
    )


def percent_of(points, maximum):
    """100 x points / maximum rounded half up to one decimal; None if nothing counted."""
    if not maximum:
        return None
    return floor(Fraction(1000) * points / maximum + HALF) / 10


@dataclass
class ItemResult:
    item_id: str
    section_id: str
    applies: bool
    value: object
    points: Fraction | None = None
    max_points: Fraction | None = None
    failed: bool = False
    critical: bool = False

    @property
    def counted(self):
        return self.max_points is not None


@dataclass
class SectionScore:
    id: str
    points: Fraction = ZERO
    max_points: Fraction = ZERO

    @property
    def percent(self):
        return percent_of(self.points, self.max_points)


@dataclass
class Score:
    points: Fraction
    max_points: Fraction
    critical_failed: bool
    failed_items: list
    sections: list
    items: list = field(repr=False)

    @property
    def percent(self):
        return percent_of(self.points, self.max_points)


def score_answers(definition, answers):
    """Score one audit. N/A, unanswered optional and non-applying items count for nothing."""
    applicable = {}
    items, sections = [], []
    for section in definition["sections"]:
        counted = []
        for item in section["items"]:
            value = answers.get(item["id"])
            applicable[item["id"]] = applies(item, answers, applicable)
            result = ItemResult(item["id"], section["id"], applicable[item["id"]], value,
                                critical=bool(item.get("critical")))
            items.append(result)
            if not (result.applies and is_scored(item)) or value is None or value == NA:
                continue
            fraction = item_fraction(item, value)
            result.max_points = weight(item)
            # (Whole and zero fractions, the common case, need no multiplication.)
            earned, of = fraction.numerator, fraction.denominator
            result.points = (ZERO if not earned else result.max_points if earned == of
                             else result.max_points * fraction)
            result.failed = is_failure(fraction)
            counted.append(result)
        sections.append(SectionScore(section["id"], exact_sum(r.points for r in counted),
                                     exact_sum(r.max_points for r in counted)))
    failed = [r for r in items if r.failed]
    return Score(
        points=exact_sum(s.points for s in sections),
        max_points=exact_sum(s.max_points for s in sections),
        critical_failed=any(r.critical for r in failed),
        failed_items=[r.item_id for r in failed],
        sections=sections,
        items=items,
    )


def exact_sum(fractions):
    """The sum of some Fractions, over their common denominator: one division at the
    end instead of one per addition."""
    fractions = list(fractions)
    denominator = lcm(*(f.denominator for f in fractions)) if fractions else 1
    return Fraction(sum(f.numerator * (denominator // f.denominator) for f in fractions),
                    denominator)


@dataclass(frozen=True)
class ItemPoints:
    """What one scored item can earn, in whole points of its checklist's common scale:
    `max` (its weight), `by_choice` {form value: points} for a "choices" widget (N/A
    has none: it counts for nothing), `bands` [[above, up_to, points]] for a number."""
    max: int
    by_choice: dict
    bands: list


def points_table(definition):
    """{item id: ItemPoints} of every scored item of a checklist, for the audit page to add
    up a score so far as score_answers does, without a rule of its own: the sum of the
    points of the answered items that apply, over the sum of their `max`, rounded as
    percent_of rounds. Every value is a whole number (the weights and fractions times the
    common denominator of them all), so the page adds them exactly."""
    earned = {}
    for _, item in iter_items(definition):
        if not is_scored(item):
            continue
        w = weight(item)
        choices = {form: w * item_fraction(item, value) for form, value, _ in type_of(item).choices(item)}
        bands = [[above, up_to, w * fraction] for above, up_to, fraction in band_ranges(item)
                 ] if type_of(item).widget == "number" else []
        earned[item["id"]] = (w, choices, bands)
    scale = lcm(*(f.denominator for w, choices, bands in earned.values()
                  for f in (w, *choices.values(), *(b[2] for b in bands)))) if earned else 1
    whole = lambda f: int(f * scale)  # noqa: E731
    return {item_id: ItemPoints(whole(w), {form: whole(p) for form, p in choices.items()},
                                [[above, up_to, whole(p)] for above, up_to, p in bands])
            for item_id, (w, choices, bands) in earned.items()}
