"""What the charts weigh on a page: one line chart with its table (90 days, a walk-in and a
call a week) and sparklines with their tables (12 weeks, one per row of a table of 80), as
bytes of HTML and gzipped, the way the pages are sent.

    python bench/charts.py
"""
import gzip
import os
import random
import secrets
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
# create_app refuses to start without a strong SECRET_KEY: this run's apps, servers and
# commands share a random one (unless one is set).
os.environ.setdefault("SECRET_KEY", secrets.token_urlsafe(32))

from flask import render_template_string  # noqa: E402

from audit_server import create_app  # noqa: E402
from audit_server.web.charts import Series, line_chart, sparkline  # noqa: E402

ROWS = 80


def weighed(name, html):
    data = html.encode()
    print(f"{name:<34}{len(data) / 1024:>9.1f} KB{len(gzip.compress(data)) / 1024:>9.1f} KB")


def main():
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    scores = random.Random(12)
    end = date(2026, 12, 1)
    start = end - timedelta(days=89)
    walk_in = Series("Walk-in", [(start + timedelta(days=7 * n + scores.randrange(3)), scores.uniform(50, 100))
                                 for n in range(13) if scores.random() > .15])
    phone = Series("Phone", [(start + timedelta(days=7 * n + 3), scores.uniform(40, 100)) for n in range(13)
                             if scores.random() > .15])
    weeks = [end - timedelta(weeks=12 - n) for n in range(12)]
    with app.test_request_context(headers={"Accept-Language": "es"}):
        line = render_template_string('{% from "_charts.html" import score_chart %}{{ score_chart(c, "T", "") }}',
                                      c=line_chart([walk_in, phone], start, end))
        row = '{% from "_charts.html" import sparkline %}{{ sparkline(c, "T") }}'
        lines = [render_template_string(row, c=sparkline([(w, None if scores.random() < .1 else scores.uniform(40, 100))
                                                          for w in weeks])) for _ in range(ROWS)]
    print(f"{'':<34}{'HTML':>12}{'gzipped':>12}")
    weighed("line chart and its table", line)
    weighed("one sparkline and its table", lines[0])
    weighed(f"{ROWS} sparklines and their tables", "".join(lines))


if __name__ == "__main__":
    main()
