"""The weekly digest e-mail: the week it covers, who gets one, what each holds, and
which were sent. docs/digest.md says it for people.

A week is an ISO week, Monday to Sunday. Without --week, "the previous week" is the ISO
week before the one the command runs in, on UTC's calendar, so that one run names one
week for everyone. Each person's figures are read on their own clock: the zone most of
their locations use (reports.viewer_zone, as their report pages do), the week being
Monday 00:00 to the next Monday 00:00 there; and a person's digest of a week is sent
only once that week has ended on their clock (a run before then leaves them to the
next run).

Nothing here makes a figure or a list of its own: the headline figures are
reports.organisation_report's region summaries over the week, beside the week before
(Period.previous), with each region's coverage as its report gives it
(reports.region_coverage); the audits due are services/cadence.py's (locations_due, the
rule GET /api/v1/locations/<id>/due answers with); the lists of actions are
services/my_work.py's; the scope is services/access.py's.
"""
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import DigestDelivery, Location, User
from ..models.types import utcnow
from . import access, cadence, my_work, org, reports
from .errors import InvalidInput

# Who gets a digest, and what it holds for each role.
RECIPIENT_ROLES = ("regional", "manager")
VERIFIES = ("regional",)  # the actions waiting for their verification
REGION_FIGURES = ("regional",)  # their regions' headline figures and coverage
DUE_AUDITS = ("manager",)  # their locations' audits due by the cadence
# At most this many rows of each list; the digest says how many more there are.
LIST_LIMIT = 20
FIRST_YEAR, LAST_YEAR = 2000, 2099  # the years every date of Momento is in
WEEK_FORMAT = re.compile(r"(\d{4})-W(\d{2})")
WEEK_EXAMPLE = "2026-W48"


def _refuse(message):
    raise InvalidInput(message, {"week": [message]})


@dataclass(frozen=True, order=True)
class Week:
    """An ISO week: its year (the ISO year, which can differ from the calendar year of
    its first or last days) and number (1 to 52 or 53)."""

    year: int
    number: int

    @classmethod
    def of(cls, day):
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    @classmethod
    def parse(cls, text):
        """The Week of ISO 8601 text such as 2026-W48; InvalidInput naming "week" otherwise."""
        found = WEEK_FORMAT.fullmatch(text.strip())
        if found is None:
            _refuse(f"Must be an ISO week such as {WEEK_EXAMPLE} (the year, W, and the "
                    "week's number in two digits).")
        year, number = int(found[1]), int(found[2])
        if not FIRST_YEAR <= year <= LAST_YEAR:
            _refuse(f"Must be a week of the years {FIRST_YEAR} to {LAST_YEAR}.")
        weeks = date(year, 12, 28).isocalendar().week  # 28 December is always in the last week
        if not 1 <= number <= weeks:
            _refuse(f"{year} has weeks 01 to {weeks}, not {number:02d}.")
        return cls(year, number)

    @property
    def monday(self):
        return date.fromisocalendar(self.year, self.number, 1)

    @property
    def sunday(self):
        return self.monday + timedelta(days=6)

    def period(self, zone):
        """The week as a report Period on the clock `zone` (Monday 00:00 to the next
        Monday 00:00 there); its `previous` is the week before."""
        return reports.period_of(from_date=self.monday, to_date=self.sunday, zone=zone)

    def __str__(self):
        return f"{self.year}-W{self.number:02d}"


def previous_week(now=None):
    """The ISO week before the one `now` is in, on UTC's calendar."""
    now = now or utcnow()
    return Week.of(now.astimezone(timezone.utc).date() - timedelta(weeks=1))


def week_to_send(text=None, now=None):
    """The week a run sends: the one `text` names (an ISO week that has ended, on UTC's
    calendar), else the previous week. InvalidInput naming "week" for anything else."""
    now = now or utcnow()
    if text is None:
        return previous_week(now)
    week = Week.parse(text)
    if week > previous_week(now):
        _refuse(f"{week} has not ended yet: its last day is {week.sunday.isoformat()}.")
    return week


@dataclass(frozen=True)
class Recipient:
    """A person who may get the week's digest, and what this run does for them:
    "send", "sent" (already, by an earlier run), "not_over" (the week has not ended on
    their clock yet: period.end) or "nothing" (they see no location)."""

    user: User
    zone: str
    period: reports.Period
    state: str


def _sees_a_location(user):
    return db.session.scalar(access.in_scope(sa.select(Location.id), user, Location.id)
                             .limit(1)) is not None


def recipients(week, now=None):
    """Every active regional manager and manager, by e-mail address, with what this run
    does for them."""
    now = now or utcnow()
    sent = set(db.session.scalars(sa.select(DigestDelivery.user_id)
                                  .where(DigestDelivery.week == str(week))))
    users = db.session.scalars(sa.select(User).where(User.active, User.role.in_(RECIPIENT_ROLES))
                               .order_by(User.email)).all()
    found = []
    for user in users:
        zone = reports.viewer_zone(user)
        period = week.period(zone)
        if user.id in sent:
            state = "sent"
        elif not _sees_a_location(user):
            state = "nothing"
        elif period.end > now:
            state = "not_over"
        else:
            state = "send"
        found.append(Recipient(user, zone, period, state))
    return found


@dataclass(frozen=True)
class Digest:
    """What one person's digest of a week holds. `regions`: each of their regions with
    its headline figures over the week beside the week before (organisation_report's
    rows: region, locations, summary); `coverage`: each region's coverage by region id
    (reports.region_coverage: the share covered at the week's end beside the week
    before's, and the locations not covered now, worst first, with `overdue_total`);
    `checklists`: the report's checklists by id; `due`: the state of each of their
    locations' checklists now, worst first (cadence.locations_due), done ones last;
    `due_total`: how many are due or overdue; `due_more`: how many rows were left out.
    The lists are as they stand when the digest is made (`now`): at most LIST_LIMIT rows
    of each, and their totals."""

    user: User
    week: Week
    period: reports.Period
    now: datetime
    regions: list
    coverage: dict
    checklists: dict
    due: list
    due_total: int
    due_more: int
    overdue: list
    overdue_total: int
    waiting: list
    waiting_total: int


def digest_of(recipient, week, now=None):
    """The Digest of a Recipient for the week."""
    now = now or utcnow()
    user = recipient.user
    regions, coverage, checklists = [], {}, {}
    if user.role in REGION_FIGURES:
        report = reports.organisation_report(user, recipient.period, now=now)
        regions = report["regions"]
        checklists = {c["id"]: c for c in report["checklists"]}
        for row in regions:
            found = reports.region_coverage(user, row["region"]["code"], recipient.period, now=now)
            coverage[row["region"]["id"]] = {**found, "overdue": found["overdue"][:LIST_LIMIT],
                                             "overdue_total": len(found["overdue"])}
    due = []
    if user.role in DUE_AUDITS:
        due = cadence.locations_due(org.visible_locations(user), now=now)
    due_total = sum(1 for row in due if row["state"] != cadence.DONE)
    overdue, overdue_total = my_work.overdue_actions(user, LIST_LIMIT, now=now)
    waiting, waiting_total = ([], 0)
    if user.role in VERIFIES:
        waiting, waiting_total = my_work.waiting_for_verification(user, 1, LIST_LIMIT, now=now)
    return Digest(user, week, recipient.period, now, regions, coverage, checklists,
                  due[:LIST_LIMIT], due_total, max(0, len(due) - LIST_LIMIT),
                  overdue, overdue_total, waiting, waiting_total)


def record_delivery(user, week, message_id, now=None):
    """Record that the mail server accepted the person's digest of the week. False (and
    nothing written) if another run recorded it meanwhile."""
    db.session.add(DigestDelivery(user_id=user.id, week=str(week), message_id=message_id[:255],
                                  sent_at=now or utcnow()))
    try:
        db.session.commit()
    except sa.exc.IntegrityError:
        db.session.rollback()
        return False
    return True

