"""The charts' geometry (web/charts.py) and their markup (templates/_charts.html).

Coordinates are worked out by hand from the line chart's box: x from 34 to 340 over the
days of the window, y from 166 (0 %) to 8 (100 %), so y = 166 - 1.58 * score."""
from datetime import date, timedelta

from flask import render_template_string

from audit_server.web.charts import Series, date_ticks, line_chart, sparkline

SEPTEMBER = (date(2026, 9, 1), date(2026, 9, 30))  # a Tuesday to a Wednesday: 29 days


def test_scores_of_the_same_or_the_next_week_are_joined_and_a_week_without_one_breaks_the_line():
    walk_in = Series("Walk-in", [
        (date(2026, 9, 1), 80.0),   # Tuesday, week of 31 Aug: x 34, y 39.6
        (date(2026, 9, 3), 60.0),   # Thursday, same week: x 34 + 306 * 2 / 29 = 55.1, y 71.2
        (date(2026, 9, 6), 50.0),   # Sunday, same week: x 34 + 306 * 5 / 29 = 86.8, y 87.0
        (date(2026, 9, 7), 100.0),  # Monday, the next week: joined; x 97.3, y 8.0
        (date(2026, 9, 21), 0.0),   # the week of 14 Sep has none: a new run; x 245.0, y 166.0
    ])
    chart = line_chart([walk_in], *SEPTEMBER)
    (drawn,) = chart.series
    assert drawn.runs == ["M34.0,39.6 L55.1,71.2 L86.8,87.0 L97.3,8.0"]
    assert drawn.markers == [(34.0, 39.6), (55.1, 71.2), (86.8, 87.0), (97.3, 8.0), (245.0, 166.0)]
    assert drawn.scores == 5


def test_an_explicit_gap_breaks_the_line_and_a_lone_score_is_a_marker_only():
    weeks = [date(2026, 9, 7) + timedelta(weeks=n) for n in range(4)]
    chart = line_chart([Series("Fono", list(zip(weeks, [70.0, None, 90.0, 40.0])))],
                       weeks[0], weeks[-1])
    (drawn,) = chart.series
    # 21 days: x = 34 + 306 * days / 21; the first score, alone before the gap, has no line.
    assert drawn.runs == ["M238.0,23.8 L340.0,102.8"]
    assert drawn.markers == [(34.0, 55.4), (238.0, 23.8), (340.0, 102.8)]


def test_each_series_has_its_own_line_and_marker_and_the_table_has_every_score_by_date():
    chart = line_chart([
        Series("Walk-in", [(date(2026, 9, 2), 75.0), (date(2026, 9, 2), 25.0)]),
        Series("Phone", [(date(2026, 9, 2), 50.0), (date(2026, 9, 10), 100.0)]),
    ], *SEPTEMBER)
    assert [(s.line, s.marker) for s in chart.series] == [("solid", "circle"), ("dashed", "square")]
    assert [s.index for s in chart.series] == [0, 1]
    assert chart.rows == [
        (date(2026, 9, 2), [[75.0, 25.0], [50.0]]),
        (date(2026, 9, 10), [[], [100.0]]),
    ]


def test_a_checklist_keeps_its_style_whichever_series_are_drawn_with_it():
    phone = Series.of_checklist("phone", "Fono", [(date(2026, 9, 2), 50.0)])
    walk_in = Series.of_checklist("walk_in", "Walk-in", [(date(2026, 9, 3), 70.0)])
    alone, after, before = (line_chart(series, *SEPTEMBER).series
                            for series in ([phone], [walk_in, phone], [phone, walk_in]))
    assert [(s.label, s.index, s.line) for s in alone] == [("Fono", 1, "dashed")]
    assert [(s.label, s.index) for s in after] == [("Walk-in", 0), ("Fono", 1)]
    assert [(s.label, s.index) for s in before] == [("Fono", 1), ("Walk-in", 0)]
    # The table keeps the order the series were given in.
    assert line_chart([phone, walk_in], *SEPTEMBER).rows[0] == (date(2026, 9, 2), [[50.0], []])


def test_scores_outside_the_window_are_left_out():
    chart = line_chart([Series("Walk-in", [(date(2026, 8, 31), 10.0), (date(2026, 9, 15), 20.0),
                                           (date(2026, 10, 1), 30.0)])], *SEPTEMBER)
    assert chart.rows == [(date(2026, 9, 15), [[20.0]])]
    assert chart.series[0].scores == 1


def test_a_chart_without_scores_is_empty_and_draws_nothing():
    chart = line_chart([Series("Walk-in", []), Series("Phone", [(date(2026, 9, 4), None)])], *SEPTEMBER)
    assert chart.empty
    assert [(s.runs, s.markers, s.scores) for s in chart.series] == [([], [], 0), ([], [], 0)]


def test_the_score_scale_runs_from_0_to_100():
    chart = line_chart([], *SEPTEMBER)
    assert chart.score_ticks == [(0, 166.0), (25, 126.5), (50, 87.0), (75, 47.5), (100, 8.0)]


def test_a_long_window_marks_the_months_and_a_short_one_the_mondays():
    assert date_ticks(date(2026, 7, 15), date(2026, 10, 12)) == [
        date(2026, 8, 1), date(2026, 9, 1), date(2026, 10, 1)]
    assert date_ticks(date(2026, 9, 1), date(2026, 9, 30)) == [
        date(2026, 9, 7), date(2026, 9, 14), date(2026, 9, 21), date(2026, 9, 28)]
    assert date_ticks(date(2026, 9, 7), date(2026, 9, 7)) == [date(2026, 9, 7)]


def test_a_sparkline_joins_consecutive_weeks_and_dots_lone_weeks_and_the_last():
    weeks = [date(2026, 7, 6) + timedelta(weeks=n) for n in range(12)]
    scores = [100.0, 50.0, None, 0.0, None, None, 80.0, 90.0, None, None, None, 25.0]
    line = sparkline(list(zip(weeks, scores)))
    # x = 3 + 114 / 11 * week (10.4 per week); y = 29 - 0.26 * score.
    assert line.runs == "M3.0,3.0 L13.4,16.0 M65.2,8.2 L75.5,5.6"
    assert line.dots == "M34.1,29.0 h0 M117.0,22.5 h0"
    assert line.points == list(zip(weeks, scores))


def test_a_sparkline_without_scores_draws_no_line():
    weeks = [date(2026, 7, 6) + timedelta(weeks=n) for n in range(12)]
    line = sparkline([(week, None) for week in weeks])
    assert (line.runs, line.dots) == ("", "")


MESSY = 'Café "Olé" 🍩 <script>alert(1)</script>'


def render(app, source, **context):
    with app.test_request_context(headers={"Accept-Language": "es"}):
        return render_template_string(source, **context)


def test_the_line_chart_escapes_its_labels_and_has_a_table_of_its_numbers(app):
    chart = line_chart([Series(MESSY, [(date(2026, 9, 2), 87.5)]), Series("Teléfono", [])], *SEPTEMBER)
    html = render(app, '{% from "_charts.html" import score_chart %}{{ score_chart(chart, title, "—") }}',
                  chart=chart, title=MESSY)
    assert "<script>" not in html
    assert 'aria-label="Café &#34;Olé&#34; 🍩 &lt;script&gt;alert(1)&lt;/script&gt;.' in html
    assert '<svg class="line-chart" viewBox="0 0 360 190" width="100%" role="img"' in html
    assert "<caption>Café &#34;Olé&#34; 🍩 &lt;script&gt;alert(1)&lt;/script&gt;</caption>" in html
    # One row, 2 Sep: 87.5 % is shown whole (88 %), and the phone, without a score that day, a dash.
    assert "<th scope=\"row\">2 sept 2026</th><td>88 %</td><td>—</td>" in html


def test_an_empty_line_chart_says_so_instead(app):
    chart = line_chart([Series("Walk-in", [])], *SEPTEMBER)
    html = render(app, '{% from "_charts.html" import score_chart %}{{ score_chart(chart, "T", "Sin auditorías") }}',
                  chart=chart)
    assert "Sin auditorías" in html and "<svg" not in html and "<table" not in html


def test_the_sparkline_escapes_its_title_and_lists_its_weeks(app):
    weeks = [date(2026, 7, 6) + timedelta(weeks=n) for n in range(2)]
    html = render(app, '{% from "_charts.html" import sparkline %}{{ sparkline(chart, title) }}',
                  chart=sparkline(list(zip(weeks, [None, 61.0]))), title=MESSY)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'preserveAspectRatio="none" role="img"' in html
    assert "<td>6 jul</td><td>—</td>" in html and "<td>13 jul</td><td>61 %</td>" in html
