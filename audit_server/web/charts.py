"""Charts of scores as SVG drawn on the server: the geometry here, the markup in
templates/_charts.html (`score_chart` and `sparkline`, each with a table of its numbers).

Scores are percentages, so every chart's vertical scale is 0 to 100. A line joins
the scores of consecutive weeks; a Monday-to-Sunday week without a score breaks it
(an explicit None is such a week too). No JavaScript: the pages stay light, and the
SVG prints as sharply as the text around it.

Nothing here writes markup: the coordinates are numbers, and every text (labels,
dates) reaches the page through Jinja's escaping.
"""
from dataclasses import dataclass
from datetime import timedelta

# The line chart's coordinate box. It is scaled to its container's width, so its text
# is sized for a phone (12 units are 11 px on a 330-px-wide card) and grows on a laptop.
WIDTH, HEIGHT = 360, 190
# (The right margin leaves room for half of the last date's label.)
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 34, 340, 8, 166
SCORE_TICKS = (0, 25, 50, 75, 100)
# A series is told apart by its line and its marker as well as its colour (CSS .series-N).
SERIES_STYLES = (("solid", "circle"), ("dashed", "square"), ("dotted", "diamond"))
# Each kind of checklist keeps its style on every chart, whichever others are drawn with it.
CHECKLIST_STYLES = {"walk_in": 0, "phone": 1}
# The sparkline's box: stretched to its cell (preserveAspectRatio="none"); its strokes
# keep their width (vector-effect="non-scaling-stroke").
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 120, 32, 3
# Above this many days a line chart's dates are marked per month, else per week.
MONTHLY_TICKS_AFTER = 45


@dataclass(frozen=True)
class Series:
    """One line: its label and its (date, score or None) points, oldest first; its style
    (see SERIES_STYLES) is its place among the series unless given."""
    label: str
    points: list
    style: int | None = None

    @classmethod
    def of_checklist(cls, kind, label, points):
        return cls(label, points, CHECKLIST_STYLES.get(kind))


@dataclass(frozen=True)
class SeriesDrawing:
    label: str
    index: int  # its style: the CSS class series-<index>
    line: str  # "solid", "dashed" or "dotted"
    marker: str  # "circle", "square" or "diamond"
    runs: list  # one SVG path (d) per run of joined scores (two or more points)
    markers: list  # (x, y) of every score
    scores: int  # how many scores it has


@dataclass(frozen=True)
class LineChart:
    width: int
    height: int
    plot: tuple  # (left, top, right, bottom)
    score_ticks: list  # (score, y)
    date_ticks: list  # (date, x)
    series: list  # SeriesDrawing
    rows: list  # the table: (date, [the scores of each series that day])

    @property
    def empty(self):
        return not self.rows


@dataclass(frozen=True)
class Sparkline:
    width: int
    height: int
    runs: str  # one SVG path (d) of every run of joined scores
    dots: str  # one SVG path (d) of dots: the last score and scores standing alone
    points: list  # the (week, score or None) points as given, for the table


def week_of(day):
    """The Monday that starts the day's week."""
    return day - timedelta(days=day.weekday())


def joined(earlier, later):
    """Whether a line joins scores of these two dates: no whole week without one between."""
    return week_of(later) - week_of(earlier) <= timedelta(days=7)


def _score_y(score, top, bottom):
    return round(bottom - (bottom - top) * score / 100, 1)


def _runs(points):
    """The scored points split where a line breaks: [[(date, score), ...], ...]."""
    runs, previous = [], None
    for day, score in points:
        if score is None:
            previous = None
            continue
        if previous is None or not joined(previous, day):
            runs.append([])
        runs[-1].append((day, score))
        previous = day
    return runs


def _path(coordinates):
    return "M" + " L".join(f"{x},{y}" for x, y in coordinates)


def date_ticks(start, end):
    """The dates to mark between start and end (inclusive): the 1st of each month on a
    long span, each Monday on a short one."""
    if (end - start).days > MONTHLY_TICKS_AFTER:
        day = start.replace(day=1)
        ticks = []
        while day <= end:
            if day >= start:
                ticks.append(day)
            day = (day + timedelta(days=32)).replace(day=1)
        return ticks
    first_monday = start + timedelta(days=(7 - start.weekday()) % 7)
    return [first_monday + timedelta(weeks=n) for n in range((end - first_monday).days // 7 + 1)]


def line_chart(series, start, end):
    """A LineChart of scores (0-100) on dates from start to end (both included)."""
    span = max((end - start).days, 1)

    def x_of(day):
        return round(PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * (day - start).days / span, 1)

    def y_of(score):
        return _score_y(score, PLOT_TOP, PLOT_BOTTOM)

    drawings, by_date = [], {}
    for index, one in enumerate(series):
        style = index if one.style is None else one.style
        line, marker = SERIES_STYLES[style % len(SERIES_STYLES)]
        shown = [(day, score) for day, score in one.points if start <= day <= end]
        runs = _runs(shown)
        scored = [point for run in runs for point in run]
        drawings.append(SeriesDrawing(
            label=one.label, index=style % len(SERIES_STYLES), line=line, marker=marker,
            runs=[_path([(x_of(d), y_of(s)) for d, s in run]) for run in runs if len(run) > 1],
            markers=[(x_of(d), y_of(s)) for d, s in scored],
            scores=len(scored),
        ))
        for day, score in scored:
            by_date.setdefault(day, [[] for _ in series])[index].append(score)
    return LineChart(
        width=WIDTH, height=HEIGHT, plot=(PLOT_LEFT, PLOT_TOP, PLOT_RIGHT, PLOT_BOTTOM),
        score_ticks=[(score, y_of(score)) for score in SCORE_TICKS],
        date_ticks=[(day, x_of(day)) for day in date_ticks(start, end)],
        series=drawings,
        rows=sorted(by_date.items()),
    )


def sparkline(points):
    """A Sparkline of consecutive weeks' scores: (week, score or None) points, oldest
    first (None: a week without one)."""
    top, bottom = SPARK_PAD, SPARK_HEIGHT - SPARK_PAD
    step = (SPARK_WIDTH - 2 * SPARK_PAD) / max(len(points) - 1, 1)
    runs, current, last = [], None, None
    for n, (_week, value) in enumerate(points):
        if value is None:
            current = None
            continue
        if current is None:
            current = []
            runs.append(current)
        last = (round(SPARK_PAD + step * n, 1), _score_y(value, top, bottom))
        current.append(last)
    alone = [run[0] for run in runs if len(run) == 1]
    dots = alone + ([last] if last is not None and last not in alone else [])
    return Sparkline(
        width=SPARK_WIDTH, height=SPARK_HEIGHT,
        runs=" ".join(_path(run) for run in runs if len(run) > 1),
        dots=" ".join(f"M{x},{y} h0" for x, y in dots),
        points=list(points),
    )
