"""The weekly digest e-mail, sent by `flask digest send` to a real SMTP server (aiosmtpd on a
loopback port, started by the test) and parsed back with the standard library's `email`:
who gets one, in which language, with which figures and links, in both parts; sending
the same week again; a server that fails half-way or refuses a recipient; --dry-run; no
mail server; bad settings and weeks."""
import email
import email.policy
import re
import threading
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
import requests
import sqlalchemy as sa
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult
from babel.dates import format_date

from audit_server.extensions import db
from audit_server.models import DigestDelivery, Location, User
from audit_server.models.users import user_regions
from audit_server.services import accounts, digest
from audit_server.services.digest import Week
from audit_server.services.errors import InvalidInput
from tests.conftest import free_port
from tests.helpers import PASSWORD, PHONE_CALL, WALK_IN, failing, set_columns, submit

BASE = "https://momento.example.com/app"
SENDER = "Momento <digest@momento.example>"
MESSY = '<script>alert("¡hola")</script> Café ñandú 🍰'
# The week the tests send: two weeks back, ended on every clock whatever the day.
WEEK = Week.of(datetime.now(timezone.utc).date() - timedelta(weeks=2))
BEFORE = Week.of(WEEK.monday - timedelta(weeks=1))
# The walk-in's mean score in region N, as the regional manager's digest writes it.
WALK_IN_LINE = "- Entrada de cinco segundos: 100\xa0% (semana anterior: 73\xa0%; +27 ptos mejor)"


class Inbox:
    """aiosmtpd's handler: keeps every message it accepts, parsed; refuses the recipients
    of `refuse` (550 at RCPT), and answers 421 (closing) to the DATA of the message whose
    number (from 1) is `fail_at`."""

    def __init__(self):
        self.messages = []
        self.refuse = set()
        self.fail_at = None
        self.tried = 0
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.tried += 1
            if self.tried == self.fail_at:
                return "421 4.3.2 Shutting down"
            parsed = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), parsed,
                                  session.authenticated))
        return "250 OK"

    def to(self, address):
        found = [m for _, rcpt, m, _ in self.messages if rcpt == [address]]
        assert len(found) == 1, (address, [r for _, r, _, _ in self.messages])
        return found[0]


@pytest.fixture
def smtp():
    """A real SMTP server on a free loopback port: (its Inbox, its port)."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def mail_app(make_app, port, **settings):
    return make_app(**{"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port, "MAIL_FROM": SENDER,
                       "PUBLIC_BASE_URL": BASE, **settings})


def run(app, *args):
    """`flask digest send ARGS` on that app (in its own app context: the test's is another
    app's, which the command would use otherwise)."""
    with app.app_context():
        return app.test_cli_runner().invoke(args=["digest", "send", *args])


def send(app, *args):
    return run(app, "--week", str(WEEK), *args)


def deliveries():
    """The deliveries recorded, as the test's session reads them now."""
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(DigestDelivery))


def madrid(day, hour=12):
    return datetime.combine(day, time(hour), ZoneInfo("Europe/Madrid")).astimezone(timezone.utc)


@pytest.fixture
def week_data(app, client, organisation):
    """Region N over WEEK: N1 and N2 walk-ins, all passed (100 %); the week before, one
    walk-in at N1 where the floor and the smile failed (11/15 = 73.3 %). The floor's action is
    overdue; the smile's was marked done on time in WEEK (waiting for verification). N1 has
    a messy name; the regional manager reads Spanish, N1's manager English, S1's manager
    has no language (the default, Spanish)."""
    wednesday = WEEK.monday + timedelta(days=2)
    submit(client, organisation, "admin", "N1", at=madrid(wednesday))
    submit(client, organisation, "admin", "N2", at=madrid(wednesday))
    found = submit(client, organisation, "admin", "N1", failing("floor_clean", "smile"),
                   at=madrid(wednesday - timedelta(weeks=1)))
    actions = {a["item_id"]: a["id"] for a in found["actions"]}
    set_columns(app, actions["floor_clean"], due_at=madrid(wednesday))
    set_columns(app, actions["smile"], status="done", due_at=madrid(wednesday + timedelta(days=2)),
                closed_at=madrid(wednesday), first_done_at=madrid(wednesday))
    db.session.execute(sa.update(Location).where(Location.code == "N1").values(name=MESSY))
    for role, locale, name in (("regional", "es", "Begoña Ruiz 🌻"), ("manager", "en", "Zoë O'Neil"),
                               ("manager_s", None, "")):
        db.session.execute(sa.update(User).where(User.id == organisation.ids[role])
                           .values(locale=locale, name=name))
    db.session.commit()
    return actions


def parts(message):
    """The plain-text and HTML parts of a message (lines ending in \\n, not SMTP's \\r\\n)."""
    return tuple(message.get_body((kind,)).get_content().replace("\r\n", "\n")
                 for kind in ("plain", "html"))


def test_each_regional_manager_and_manager_gets_their_digest_in_their_language(
        make_app, smtp, organisation, week_data):
    inbox, port = smtp
    result = send(mail_app(make_app, port))
    assert result.exit_code == 0, result.output
    assert f"Digest of {WEEK} ({WEEK.monday.isoformat()} to {WEEK.sunday.isoformat()}): 3 sent." \
        in result.output

    # Recipients: the regional manager and both managers, one message each; not the admin.
    assert sorted(rcpt[0] for _, rcpt, _, _ in inbox.messages) == sorted(
        organisation.emails[r] for r in ("regional", "manager", "manager_s"))
    assert {sender for sender, _, _, _ in inbox.messages} == {"digest@momento.example"}

    regional = inbox.to(organisation.emails["regional"])
    assert regional["To"].addresses[0].display_name == "Begoña Ruiz 🌻"
    assert regional["From"] == SENDER
    assert regional["Content-Language"] == "es"
    assert regional["Auto-Submitted"] == "auto-generated"
    assert regional["Subject"].startswith("Momento: tu semana del ")
    assert regional.get_content_type() == "multipart/alternative"
    text, html = parts(regional)
    assert "Hola, Begoña Ruiz 🌻:" in text and f"({WEEK}, con la hora de Europe/Madrid)" in text
    # Region N's headline figures beside the week before; region S is not hers.
    assert "== North (2 locales) ==" in text and "South" not in text
    walk_in = next(line for line in text.splitlines() if line.startswith("- Entrada"))
    assert walk_in == WALK_IN_LINE
    assert "- Auditorías: 2 (semana anterior: 1; +1)" in text
    assert "- Locales auditados: 2 (semana anterior: 1; +1 mejor)" in text
    assert "- Acciones vencidas ahora: 1" in text
    report = (f"{BASE}/reports/regions/N?from={WEEK.monday.isoformat()}&to="
              f"{WEEK.sunday.isoformat()}&tz=Europe/Madrid")
    assert f"El informe: {report}" in text
    # The overdue action and the one waiting for her verification, with their links.
    overdue = text[text.index("== Acciones vencidas (1) =="):]
    assert f"- Limpiar y secar el suelo de la entrada · {MESSY} · vencida hace " in overdue
    assert f"{BASE}/actions/{week_data['floor_clean']}" in overdue
    waiting = text[text.index("== Esperan tu verificación (1) =="):]
    assert f"{BASE}/actions/{week_data['smile']}" in waiting and "hecha hace " in waiting

    # The HTML part says the same, every text escaped.
    assert '<html lang="es">' in html
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#34;¡hola&#34;)&lt;/script&gt; Café ñandú 🍰" in html
    assert f'<a href="{report.replace("&", "&amp;")}">North</a>' in html
    row = re.search(r'<tr data-figure="score"><th[^>]*>Entrada de cinco segundos</th>(.*?)</tr>',
                    html, re.S).group(1)
    assert re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)[:2] == ["100\xa0%", "73\xa0%"]
    assert "▲ +27 ptos mejor" in row
    assert f'href="{BASE}/actions/{week_data["floor_clean"]}"' in html
    assert f'href="{BASE}/actions/{week_data["smile"]}"' in html

    # N1's manager: English, her location's overdue action, no figures, nothing to verify.
    manager = inbox.to(organisation.emails["manager"])
    assert manager["Content-Language"] == "en"
    assert manager["Subject"].startswith("Momento: your week of ")
    text, html = parts(manager)
    assert "Hello Zoë O'Neil," in text and "== North" not in text and "week before" not in text
    assert f"- Clean and dry the entrance floor · {MESSY} · overdue by " in text
    assert f"{BASE}/actions/{week_data['floor_clean']}" in text
    assert "verification" not in text and "smile" not in text.lower()
    assert "Zoë O&#39;Neil" in html and "&lt;script&gt;" in html and "<script>" not in html

    # S1's manager has chosen no language: Spanish; nothing is overdue at S1; on Mexico's clock.
    south = inbox.to(organisation.emails["manager_s"])
    assert south["Content-Language"] == "es"
    text, _ = parts(south)
    assert f"Hola, {organisation.emails['manager_s']}:" in text
    assert "con la hora de America/Mexico_City" in text
    assert "Ninguna: todas las acciones están en plazo." in text and "/actions/" not in text

    # Recorded per person and week, once the server accepted each.
    db.session.rollback()
    rows = db.session.execute(sa.select(DigestDelivery.user_id, DigestDelivery.week,
                                        DigestDelivery.message_id)).all()
    assert sorted((u, w) for u, w, _ in rows) == sorted(
        (organisation.ids[r], str(WEEK)) for r in ("regional", "manager", "manager_s"))
    assert {m for _, _, m in rows} == {m["Message-ID"] for _, _, m, _ in inbox.messages}


def signed_in(base, email_address):
    """A requests session signed in through the login form of the server at `base`."""
    session = requests.Session()
    login = session.get(f"{base}/login").text
    token = re.search(r'name="csrf-token" content="([^"]+)"', login).group(1)
    signed = session.post(f"{base}/login", data={"email": email_address, "password": PASSWORD,
                                                 "csrf_token": token})
    assert signed.status_code == 200 and "/logout" in signed.text
    return session


def test_the_links_of_a_digest_open_its_pages_over_real_http(
        gunicorn_server, make_app, smtp, organisation, week_data):
    """The links of the digests, followed on the app served by gunicorn, signed in as
    their reader: every one opens, and the report of the week shows the digest's figures."""
    inbox, port = smtp
    assert send(mail_app(make_app, port, PUBLIC_BASE_URL=gunicorn_server)).exit_code == 0
    for role in ("regional", "manager"):
        text, html = parts(inbox.to(organisation.emails[role]))
        links = re.findall(r"https?://\S+", text)
        assert links and all(link.startswith(gunicorn_server + "/") for link in links)
        assert sorted(set(links)) == sorted(
            set(link.replace("&amp;", "&") for link in re.findall(r'href="([^"]+)"', html)))
        session = signed_in(gunicorn_server, organisation.emails[role])
        for link in links:
            page = session.get(link)
            assert page.status_code == 200, link
            assert "/login" not in page.url, link
        report = [link for link in links if "/reports/regions/N?" in link]
        assert len(report) == (1 if role == "regional" else 0)
        if report:
            page = session.get(report[0]).text
            assert "100\xa0%" in page and "73\xa0%" in page
            dates = f'value="{WEEK.monday.isoformat()}"'
            assert dates in page


def test_sending_the_same_week_again_sends_nothing_new(make_app, smtp, organisation, week_data):
    inbox, port = smtp
    mailing = mail_app(make_app, port)
    assert send(mailing).exit_code == 0
    assert len(inbox.messages) == 3
    again = send(mailing)
    assert again.exit_code == 0, again.output
    assert len(inbox.messages) == 3
    assert f"{organisation.emails['regional']}: already sent" in again.output
    assert "0 sent, 3 skipped" in again.output

    # Someone new gets theirs; the others still nothing. Another week is another digest.
    accounts.create_user("nueva@example.com", "manager", PASSWORD, [], ["N2"])
    third = send(mailing)
    assert "1 sent, 3 skipped" in third.output
    assert [rcpt for _, rcpt, _, _ in inbox.messages[3:]] == [["nueva@example.com"]]
    other = run(mailing, "--week", str(BEFORE))
    assert other.exit_code == 0 and "4 sent" in other.output
    assert len(inbox.messages) == 8


def test_a_server_that_fails_half_way_leaves_the_rest_to_the_next_run(
        make_app, smtp, organisation, week_data):
    inbox, port = smtp
    inbox.fail_at = 2  # the second message gets "421 closing"; the connection is then gone
    mailing = mail_app(make_app, port)
    first = send(mailing)
    assert first.exit_code == 1
    assert "refused by the mail server" in first.output
    assert "the mail server 127.0.0.1" in first.output and "1 digests were sent and recorded" in first.output
    assert len(inbox.messages) == 1
    sent_first = inbox.messages[0][1]
    assert deliveries() == 1

    second = send(mailing)
    assert second.exit_code == 0, second.output
    assert "2 sent, 1 skipped" in second.output
    everyone = sorted(rcpt[0] for _, rcpt, _, _ in inbox.messages)
    assert everyone == sorted(organisation.emails[r] for r in ("regional", "manager", "manager_s"))
    assert sent_first not in [rcpt for _, rcpt, _, _ in inbox.messages[1:]]


def test_a_refused_recipient_is_not_recorded_and_the_others_are_sent(
        make_app, smtp, organisation, week_data):
    inbox, port = smtp
    inbox.refuse = {organisation.emails["manager"]}
    mailing = mail_app(make_app, port)
    result = send(mailing)
    assert result.exit_code == 1
    assert f"{organisation.emails['manager']}: refused by the mail server" in result.output
    assert "2 sent, 1 refused" in result.output
    assert len(inbox.messages) == 2
    inbox.refuse = set()
    retry = send(mailing)
    assert retry.exit_code == 0 and "1 sent, 2 skipped" in retry.output
    assert inbox.messages[-1][1] == [organisation.emails["manager"]]


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_an_address_no_message_can_carry_is_said_and_the_others_are_sent(
        make_app, smtp, organisation, week_data):
    inbox, port = smtp
    accounts.create_user("josé@example.com", "manager", PASSWORD, [], ["N2"])
    result = send(mail_app(make_app, port))
    assert result.exit_code == 1
    assert "josé@example.com: not sent: an e-mail cannot be addressed to it" in result.output
    assert "3 sent, 1 refused" in result.output
    assert len(inbox.messages) == 3 and deliveries() == 3


def test_it_signs_in_to_the_mail_server_with_the_settings_user_and_password(make_app, organisation):
    inbox = Inbox()
    port = free_port()

    def authenticator(server, session, envelope, mechanism, auth_data):
        # handled=False: the server answers a failure itself (535)
        return AuthResult(success=(auth_data.login, auth_data.password) == (b"digest", b"s3cret!"),
                          handled=False)

    controller = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=authenticator,
                            auth_required=True, auth_require_tls=False)
    controller.start()
    try:
        wrong = send(mail_app(make_app, port, MAIL_USERNAME="digest", MAIL_PASSWORD="wrong"))
        assert wrong.exit_code == 1 and "SMTPAuthenticationError" in wrong.output
        assert inbox.messages == []
        right = send(mail_app(make_app, port, MAIL_USERNAME="digest", MAIL_PASSWORD="s3cret!"))
        assert right.exit_code == 0, right.output
        assert len(inbox.messages) == 3 and all(auth for _, _, _, auth in inbox.messages)
    finally:
        controller.stop()


def test_dry_run_prints_what_it_would_send_and_sends_and_records_nothing(
        make_app, smtp, organisation, week_data):
    inbox, port = smtp
    for mailing in (mail_app(make_app, port), make_app(PUBLIC_BASE_URL=BASE)):
        result = send(mailing, "--dry-run")
        assert result.exit_code == 0, result.output
        assert inbox.messages == []
        assert deliveries() == 0
        regional = organisation.emails["regional"]
        assert f"--- would send to Begoña Ruiz 🌻 <{regional}> (es)" in result.output
        assert "Subject: Momento: tu semana del " in result.output
        assert WALK_IN_LINE in result.output
        assert "Hello Zoë O'Neil," in result.output
        assert "3 would send." in result.output and "0 sent" not in result.output


def test_without_a_mail_server_it_says_so_and_sends_nothing(make_app, organisation, week_data):
    result = send(make_app(PUBLIC_BASE_URL=BASE))
    assert result.exit_code == 1
    assert "No mail server is configured (MAIL_SERVER is not set)" in result.output
    assert "--dry-run" in result.output
    assert deliveries() == 0


@pytest.mark.parametrize("settings, said", [
    ({"PUBLIC_BASE_URL": None}, "PUBLIC_BASE_URL is not set: the digest's links need the address"),
    ({"PUBLIC_BASE_URL": "momento.example.com"}, "PUBLIC_BASE_URL must be an http or https address"),
    ({"MAIL_PORT": "twenty-five"}, "MAIL_PORT: must be a port number, not 'twenty-five'"),
    ({"MAIL_PORT": 70000}, "MAIL_PORT: must be a port number from 1 to 65535"),
    ({"MAIL_FROM": None}, "MAIL_FROM: must be the sender's address"),
    ({"MAIL_USERNAME": "digest"}, "MAIL_PASSWORD: is needed with MAIL_USERNAME"),
])
def test_bad_settings_are_named(make_app, smtp, organisation, settings, said):
    inbox, port = smtp
    result = send(mail_app(make_app, port, **settings))
    assert result.exit_code == 1
    assert said in result.output
    assert inbox.messages == []


def test_a_mail_server_that_is_not_there_is_a_clear_error(make_app, organisation, week_data):
    result = send(mail_app(make_app, free_port()))
    assert result.exit_code == 1
    assert "error: the mail server 127.0.0.1:" in result.output
    assert "0 digests were sent and recorded" in result.output


@pytest.mark.parametrize("week, said", [
    ("2026-48", "Must be an ISO week such as 2026-W48"),
    ("last week", "Must be an ISO week such as 2026-W48"),
    ("2026-W4", "Must be an ISO week such as 2026-W48"),
    ("2026-W54", "2026 has weeks 01 to 53, not 54."),
    ("2025-W53", "2025 has weeks 01 to 52, not 53."),
    ("2026-W00", "2026 has weeks 01 to 53, not 00."),
    ("1999-W10", "Must be a week of the years 2000 to 2099."),
    ("2098-W10", "2098-W10 has not ended yet: its last day is 2098-03-09."),
    ("2026-W48\x00", "Must be an ISO week"),
])
def test_a_bad_week_is_a_clear_error(make_app, smtp, organisation, week, said):
    inbox, port = smtp
    result = run(mail_app(make_app, port), "--week", week)
    assert result.exit_code == 1
    assert said in result.output
    assert inbox.messages == []


def test_the_current_week_has_not_ended():
    now = datetime(2026, 12, 2, 8, 0, tzinfo=timezone.utc)  # a Wednesday of 2026-W49
    assert digest.previous_week(now) == Week(2026, 48)
    with pytest.raises(InvalidInput) as refused:
        digest.week_to_send("2026-W49", now)
    assert refused.value.fields == {"week": ["2026-W49 has not ended yet: its last day is 2026-12-06."]}
    assert digest.week_to_send("2026-W48", now) == Week(2026, 48)
    assert digest.week_to_send(None, now) == Week(2026, 48)


def test_iso_weeks_across_a_new_year():
    assert str(Week.parse("2020-W53")) == "2020-W53"
    assert Week.parse("2020-W53").monday.isoformat() == "2020-12-28"
    assert Week.parse("2021-W01").monday.isoformat() == "2021-01-04"
    # Sunday 3 January 2021 is in the last week of 2020; Monday 29 December 2025 in 2026's first.
    assert digest.previous_week(datetime(2021, 1, 10, 12, tzinfo=timezone.utc)) == Week(2020, 53)
    assert digest.previous_week(datetime(2026, 1, 5, 0, 30, tzinfo=timezone.utc)) == Week(2026, 1)
    assert Week(2026, 1).monday.isoformat() == "2025-12-29"


def test_the_default_week_is_the_previous_one_and_waits_for_it_to_end_on_each_clock(
        app, organisation):
    # Monday 30 November 2026, 03:00 UTC: 2026-W48 has ended in Madrid (04:00 on Monday)
    # but not in Mexico City (21:00 on Sunday), which gets it from 06:00 UTC.
    now = datetime(2026, 11, 30, 3, 0, tzinfo=timezone.utc)
    week = digest.week_to_send(None, now)
    assert week == Week(2026, 48)
    states = {r.user.email: (r.state, r.zone) for r in digest.recipients(week, now)}
    assert states == {
        organisation.emails["regional"]: ("send", "Europe/Madrid"),
        organisation.emails["manager"]: ("send", "Europe/Madrid"),
        organisation.emails["manager_s"]: ("not_over", "America/Mexico_City"),
    }
    later = {r.user.email: r.state for r in digest.recipients(week, now + timedelta(hours=3))}
    assert later[organisation.emails["manager_s"]] == "send"
    regional = next(r for r in digest.recipients(week, now) if r.state == "send")
    assert (regional.period.start, regional.period.end) == (
        datetime(2026, 11, 22, 23, 0, tzinfo=timezone.utc),
        datetime(2026, 11, 29, 23, 0, tzinfo=timezone.utc))
    assert regional.period.previous.start == datetime(2026, 11, 15, 23, 0, tzinfo=timezone.utc)


def test_people_who_see_nothing_or_are_inactive_get_nothing(make_app, smtp, organisation, week_data):
    inbox, port = smtp
    lost = accounts.create_user("sin-region@example.com", "regional", PASSWORD, ["S"])
    db.session.execute(user_regions.delete().where(user_regions.c.user_id == lost.id))
    db.session.execute(sa.update(User).where(User.id == organisation.ids["manager_s"]).values(active=False))
    db.session.commit()
    result = send(mail_app(make_app, port))
    assert result.exit_code == 0, result.output
    assert "sin-region@example.com: not sent: they see no location" in result.output
    assert sorted(rcpt[0] for _, rcpt, _, _ in inbox.messages) == sorted(
        organisation.emails[r] for r in ("regional", "manager"))


def test_a_second_record_of_the_same_person_and_week_is_refused(app, organisation):
    user = organisation.users["manager"]
    assert digest.record_delivery(user, WEEK, "<a@momento.example>")
    assert not digest.record_delivery(user, WEEK, "<b@momento.example>")
    assert digest.record_delivery(user, BEFORE, "<c@momento.example>")
    assert db.session.scalars(sa.select(DigestDelivery.message_id).order_by(DigestDelivery.id)
                              ).all() == ["<a@momento.example>", "<c@momento.example>"]


@pytest.fixture
def cadence_data(app, client, organisation, week_data):
    """week_data, and what is due by the cadence now: N3 (Madrid) never audited; N2's walk-in
    done today; N1's walk-in overdue (its latest is WEEK's Wednesday); no phone call anywhere.
    A manager of N2 and N3 reads Spanish."""
    organisation.add_locations("N3,Norte Tres ñandú 🍰,N,Calle 3,+34 900 000 003,Europe/Madrid")
    submit(client, organisation, "admin", "N2")  # a minute ago: today on Madrid's clock
    both = accounts.create_user("gestora@example.com", "manager", PASSWORD, [], ["N2", "N3"])
    db.session.execute(sa.update(User).where(User.id == both.id).values(locale="es", name="Íñigo"))
    db.session.commit()
    return both


def section(text, heading):
    """The lines of a plain-text part from the line starting with `heading` to the next
    blank line."""
    lines = text.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(heading))
    end = next((i for i in range(start + 1, len(lines)) if not lines[i].strip()), len(lines))
    return lines[start + 1:end]


def test_the_digest_says_what_is_due_by_the_cadence_as_the_report_and_the_api_do(
        make_app, smtp, client, organisation, cadence_data):
    inbox, port = smtp
    result = send(mail_app(make_app, port))
    assert result.exit_code == 0, result.output
    today = datetime.now(ZoneInfo("Europe/Madrid")).date()
    wednesday = WEEK.monday + timedelta(days=2)
    late = (today - wednesday).days - 7  # N1's walk-in: due 7 days after WEEK's Wednesday
    assert late >= 5
    ids = organisation.locations

    def es(day):
        return format_date(day, "medium", locale="es")

    def en(day):
        return format_date(day, "medium", locale="en")

    # What GET /api/v1/locations/<id>/due answers now, which the digests must say.
    due = {(code, row["checklist_id"]): row for code in ("N1", "N2", "N3")
           for row in client.get(f"/api/v1/locations/{ids[code]}/due",
                                 headers=organisation.headers("admin")).get_json()["checklists"]}
    assert {key: (row["state"], row["overdue_days"], row["never_audited"])
            for key, row in due.items()} == {
        ("N1", WALK_IN): ("overdue", late, False), ("N1", PHONE_CALL): ("due", 0, True),
        ("N2", WALK_IN): ("done", 0, False), ("N2", PHONE_CALL): ("due", 0, True),
        ("N3", WALK_IN): ("due", 0, True), ("N3", PHONE_CALL): ("due", 0, True)}
    n1_due_on = date.fromisoformat(due[("N1", WALK_IN)]["next_due"])
    assert n1_due_on == wednesday + timedelta(days=7)

    # The regional manager (Spanish): region N's coverage at the end of WEEK beside the week
    # before, as the region report of WEEK says it, and the locations overdue now, worst first.
    text, html = parts(inbox.to(organisation.emails["regional"]))
    report = client.get(f"/api/v1/reports/regions/N?from={WEEK.monday.isoformat()}"
                        f"&to={WEEK.sunday.isoformat()}&tz=Europe/Madrid",
                        headers=organisation.headers("regional")).get_json()["coverage"]
    covered = {row["checklist_id"]: (row["covered"]["value"], row["covered"]["previous"],
                                     row["locations"]) for row in report["checklists"]}
    assert covered == {WALK_IN: (2, 1, 3), PHONE_CALL: (0, 0, 3)}
    assert section(text, "Cobertura (locales auditados dentro de su frecuencia)") == [
        "- Llama a tu propio número, cada 14 días: 0\xa0% (semana anterior: 0\xa0%; 0 ptos sin cambio) · 0 de 3 locales",
        "- Entrada de cinco segundos, cada 7 días: 67\xa0% (semana anterior: 33\xa0%; +33 ptos mejor) · 2 de 3 locales",
    ]
    overdue = section(text, "Atrasados ahora según su frecuencia, el peor primero (5):")
    assert overdue == [
        f"- {MESSY} (N1) · Llama a tu propio número · Toca: nunca se ha hecho", f"  {BASE}/locations/N1",
        "- North Two (N2) · Llama a tu propio número · Toca: nunca se ha hecho", f"  {BASE}/locations/N2",
        "- Norte Tres ñandú 🍰 (N3) · Llama a tu propio número · Toca: nunca se ha hecho",
        f"  {BASE}/locations/N3",
        "- Norte Tres ñandú 🍰 (N3) · Entrada de cinco segundos · Toca: nunca se ha hecho",
        f"  {BASE}/locations/N3",
        f"- {MESSY} (N1) · Entrada de cinco segundos · Atrasada {late} días (tocaba el {es(n1_due_on)})",
        f"  {BASE}/locations/N1",
    ]
    # The same rows, in the same order, as the report's "overdue now" and the API's states.
    assert [(row["location"]["code"], row["checklist_id"]) for row in report["overdue"]] == [
        ("N1", PHONE_CALL), ("N2", PHONE_CALL), ("N3", PHONE_CALL), ("N3", WALK_IN), ("N1", WALK_IN)]
    assert {key for key, row in due.items() if row["state"] != "done" and
            (row["never_audited"] or row["state"] == "overdue")} == {
        (row["location"]["code"], row["checklist_id"]) for row in report["overdue"]}
    assert "North Two (N2) · Entrada" not in text  # done: covered
    # The HTML part: the coverage table and the same list, each row linking to its location.
    walk_in_row = re.search(rf'<tr data-checklist="{WALK_IN}">(.*?)</tr>', html, re.S).group(1)
    assert [cell.split("<br>")[0] for cell in
            re.findall(r"<td[^>]*>(.*?)</td>", walk_in_row, re.S)][:2] == ["67\xa0%", "33\xa0%"]
    assert "2 de 3 locales" in walk_in_row and "▲ +33 ptos mejor" in walk_in_row
    items = re.findall(r"<li>(.*?)</li>", re.search(r'<ul class="cadence-overdue">(.*?)</ul>',
                                                    html, re.S).group(1), re.S)
    assert [re.search(r'href="([^"]+)"', item).group(1) for item in items] == [
        f"{BASE}/locations/{code}" for code in ("N1", "N2", "N3", "N3", "N1")]
    assert f"Atrasada {late} días (tocaba el {es(n1_due_on)})" in items[-1]
    assert "Norte Tres ñandú 🍰" in items[2] and "&lt;script&gt;" in items[0]

    # N1's manager (English): her location's audits due, worst first, each with its start.
    text, html = parts(inbox.to(organisation.emails["manager"]))
    assert section(text, "== Audits due at your locations (2) ==") == [
        f"- {MESSY} (N1) · Call your own number · Due: never done",
        f"  Start it: {BASE}/audit/phone?location={ids['N1']}",
        f"- {MESSY} (N1) · Five-second walk-in · Overdue by {late} days (due on {en(n1_due_on)})",
        f"  Start it: {BASE}/audit/walk-in?location={ids['N1']}",
    ]
    assert re.findall(r'<li data-state="(\w+)">.*?href="([^"]+)"', html, re.S) == [
        ("due", f"{BASE}/audit/phone?location={ids['N1']}"),
        ("overdue", f"{BASE}/audit/walk-in?location={ids['N1']}")]

    # The manager of N2 and N3 (Spanish): the never-audited first, the done one last, no start.
    text, html = parts(inbox.to("gestora@example.com"))
    assert "Hola, Íñigo:" in text
    assert section(text, "== Auditorías que tocan en tus locales (3) ==") == [
        "- North Two (N2) · Llama a tu propio número · Toca: nunca se ha hecho",
        f"  Empezarla: {BASE}/audit/phone?location={ids['N2']}",
        "- Norte Tres ñandú 🍰 (N3) · Llama a tu propio número · Toca: nunca se ha hecho",
        f"  Empezarla: {BASE}/audit/phone?location={ids['N3']}",
        "- Norte Tres ñandú 🍰 (N3) · Entrada de cinco segundos · Toca: nunca se ha hecho",
        f"  Empezarla: {BASE}/audit/walk-in?location={ids['N3']}",
        f"- North Two (N2) · Entrada de cinco segundos · Hecha el {es(today)} "
        f"(la próxima toca el {es(today + timedelta(days=7))})",
    ]
    done = re.search(r'<li data-state="done">(.*?)</li>', html, re.S).group(1)
    assert "href" not in done and f"Hecha el {es(today)}" in done
    assert len(re.findall(r'<li data-state="due">', html)) == 3
    # Regional managers get no list of audits due; managers no coverage.
    assert "Cobertura" not in text
    assert "Audits due" not in parts(inbox.to(organisation.emails["regional"]))[0]
