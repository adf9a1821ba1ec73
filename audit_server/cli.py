"""flask commands: seed-demo, users, regions, locations, checklists, cadence, photos, digest, doctor."""
import contextlib
import smtplib
import sys
from datetime import datetime, timedelta, timezone

import click
import sqlalchemy as sa
from flask import current_app
from flask.cli import AppGroup, with_appcontext

from . import mail
from .models.types import utcnow
from .services import accounts, cadence, checklists, demo, demo_history, digest, org, photos
from .services.errors import InvalidInput, ServiceError, StoreUnavailable
from .web.digest import Links, public_base_url, render


def _fail(exc):
    click.secho(f"error: {exc.message}", fg="red", err=True)
    for field, messages in exc.fields.items():
        for message in messages if isinstance(messages, list) else [messages]:
            click.echo(f"  {field}: {message}", err=True)
    sys.exit(1)


@click.command("seed-demo")
@with_appcontext
@click.option("--audits", "audit_count", default=240, show_default=True, type=click.IntRange(min=0),
              help="How many audits of history to make (none if the database has audits).")
@click.option("--locations", "location_count", default=0, show_default=True,
              type=click.IntRange(min=0), help="Generated locations to add to the named ones.")
@click.option("--regions", "region_count", default=None, type=click.IntRange(min=1),
              help="Generated regions the generated locations are shared between "
                   "[default: one per 100 locations].")
@click.option("--until", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Last day of the history (default: today, UTC).")
# The default seed's history ends, as `make run` shows it, with every state of an action:
# a few open within their deadline, one overdue by a day or two, the rest closed.
@click.option("--seed", default=4, show_default=True, help="Random seed; the same seed gives the same data.")
def seed_demo(audit_count, location_count, region_count, until, seed):
    """Create a demo organisation with users and a history of audits."""
    day = until.date() if until else datetime.now(timezone.utc).date()
    demo.seed_organisation()
    if location_count:
        regions = region_count or max(1, location_count // 100)
        demo.seed_generated_organisation(regions, location_count, seed, demo.history_start(day))
    elif region_count:
        raise click.UsageError("--regions needs --locations.")
    with click.progressbar(length=audit_count, label="Audits", file=sys.stderr) as bar:
        made = demo_history.seed_history(audit_count, day, seed, progress=bar.update)
    click.echo(f"Demo organisation ready; {made} new audits up to {day.isoformat()}.")
    click.echo(f"Demo logins (password for all: {demo.DEMO_PASSWORD}):")
    for email, role, _ in demo.demo_logins():
        click.echo(f"  {role:9} {email}")
    if location_count:
        click.echo("  and the generated ones: regional.<region code>@momento.example, "
                   "manager.<first location code>@momento.example (in lower case).")


users = AppGroup("users", help="Manage user accounts.")


@users.command("create")
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(["admin", "regional", "manager"]))
@click.option("--region", "regions", multiple=True, help="Region code (regional managers).")
@click.option("--location", "locations", multiple=True, help="Location code (location managers).")
@click.option("--name", default="")
@click.option("--password-stdin", is_flag=True, required=True,
              help="Read the password from standard input (never from the command line).")
def create_user(email, role, regions, locations, name, password_stdin):
    """Create a user; the password is read from standard input."""
    password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = accounts.create_user(email, role, password, regions, locations, name)
    except InvalidInput as exc:
        _fail(exc)
    click.echo(f"Created {user.role} {user.email}.")


regions = AppGroup("regions", help="Manage regions.")


@regions.command("create")
@click.argument("code")
@click.argument("name")
def create_region(code, name):
    """Create a region."""
    try:
        region = org.create_region(code, name)
    except InvalidInput as exc:
        _fail(exc)
    click.echo(f"Created region {region.code} ({region.name}).")


locations = AppGroup("locations", help="Manage locations.")


@locations.command("import")
@click.argument("csv_file", type=click.File("r", encoding="utf-8-sig"))
def import_locations(csv_file):
    """Create or update locations (by code) from a CSV file.

    Columns: code, name, region, address, phone, timezone. Nothing is imported
    if any row is bad; every bad row is reported with its line number.
    """
    try:
        created, updated = org.import_locations(csv_file.read())
    except InvalidInput as exc:
        _fail(exc)
    click.echo(f"Imported locations: {created} created, {updated} updated.")


checklist_group = AppGroup("checklists", help="Checklist files and their stored versions.")


def _checked_files(paths):
    """Each file's Checklist (None if it has errors, which are printed); and how many had errors."""
    results, bad = [], 0
    for path in paths:
        definition, errors = checklists.check_file(path)
        for where, message in errors:
            click.secho(f"{path}: {where}: {message}", fg="red", err=True)
        bad += bool(errors)
        results.append((path, checklists.Checklist.of(definition) if definition else None))
    return results, bad


def _exit_if_bad(bad, total):
    if bad:
        click.secho(f"{bad} of {total} checklist files have errors.", fg="red", err=True)
        sys.exit(1)


@checklist_group.command("check")
@click.argument("files", nargs=-1, type=click.Path(exists=True, dir_okay=False))
def check_checklists(files):
    """Validate checklist files (default: every file in the checklists folder) and say
    which versions are not stored yet."""
    paths = files or checklists.checklist_files(current_app.config["CHECKLISTS_DIR"])
    results, bad = _checked_files(paths)
    try:
        stored = checklists.stored_keys()
    except sa.exc.SQLAlchemyError as exc:
        stored = None
        click.secho(f"(cannot tell which versions are stored: {exc.__class__.__name__}; "
                    "run `flask --app audit_server db upgrade` first?)", fg="yellow", err=True)
    for path, checklist in results:
        if checklist is None:
            continue
        if stored is None or (checklist.id, checklist.version) in stored:
            click.echo(f"{path}: ok (version {checklist.version})")
        else:
            click.secho(f"{path}: ok (version {checklist.version}), not stored yet: "
                        f"run `{checklists.SYNC_COMMAND}`", fg="yellow")
    _exit_if_bad(bad, len(paths))


@checklist_group.command("sync")
def sync_checklists():
    """Store the version of every valid file of the checklists folder that is not stored
    yet. Run it after `db upgrade` on every deployment; running it again, or on several
    machines at once, is safe."""
    paths = checklists.checklist_files(current_app.config["CHECKLISTS_DIR"])
    results, bad = _checked_files(paths)
    for path, checklist in results:
        if checklist is None:
            continue
        if checklists.ensure_stored(checklist):
            click.echo(f"{path}: stored version {checklist.version}")
        else:
            click.echo(f"{path}: version {checklist.version} was already stored")
    _exit_if_bad(bad, len(paths))


cadence_group = AppGroup("cadence", help="How often each checklist is due at a region's locations.")


@cadence_group.command("set")
@click.argument("region")
@click.argument("checklist")
@click.argument("days", type=int)
def set_cadence(region, checklist, days):
    """Make CHECKLIST (its id, e.g. five_second_walk_in) due every DAYS days (1 to 365) at
    the locations of REGION (its code), counted from each location's latest audit."""
    try:
        region, checklist = cadence.set_cadence(region, checklist, days)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"{region.code}: {checklist.id} is due every {days} days.")


@cadence_group.command("reset")
@click.argument("region")
@click.argument("checklist")
def reset_cadence(region, checklist):
    """Give REGION the default cadence of CHECKLIST again (walk-in 7 days, phone 14)."""
    try:
        had_its_own = cadence.reset_cadence(region, checklist)
    except ServiceError as exc:
        _fail(exc)
    click.echo(f"{region}: {checklist} has the default cadence"
               + (" again." if had_its_own else " (it had no other)."))


@cadence_group.command("list")
@click.argument("region", required=False)
def list_cadences(region):
    """Every region's cadence of each checklist (or REGION's); "default" where none is set."""
    try:
        rows = cadence.cadences(region)
    except ServiceError as exc:
        _fail(exc)
    for row in rows:
        note = "  (default)" if row["default"] else ""
        click.echo(f"{row['region'].code}\t{row['checklist_id']}\t{row['days']} days{note}")


photo_group = AppGroup("photos", help="Photo blobs.")


def _store_down(exc):
    """Stop with exit status 2: the store did not answer, so nothing was decided."""
    click.secho(f"error: {exc.message}", fg="red", err=True)
    sys.exit(2)


@photo_group.command("gc")
@click.option("--grace-hours", default=24.0, show_default=True, type=click.FloatRange(min=0),
              help="Keep unreferenced blobs younger than this (uploads still in flight).")
def photos_gc(grace_hours):
    """Remove the blobs that no photo references."""
    cutoff = datetime.now(timezone.utc) - timedelta(hours=grace_hours)
    try:
        removed = photos.collect_garbage(cutoff)
    except StoreUnavailable as exc:
        _store_down(exc)
    click.echo(f"Removed {removed} unreferenced blobs.")


@photo_group.command("verify")
def photos_verify():
    """Report photos whose blobs are missing (exit status 1 if any; 2 if the store does
    not answer)."""
    try:
        missing = photos.missing_blobs()
    except StoreUnavailable as exc:
        _store_down(exc)
    for photo_id, size, name in missing:
        click.secho(f"photo {photo_id}: {size} blob {name} is missing", fg="red", err=True)
    if missing:
        sys.exit(1)
    click.echo("Every photo has its blobs.")


digest_group = AppGroup("digest", help="The weekly digest e-mail.")

NO_MAIL_SERVER = ("No mail server is configured (MAIL_SERVER is not set), so nothing was sent. "
                  "Set MAIL_SERVER, MAIL_PORT, MAIL_USE_TLS, MAIL_USERNAME, MAIL_PASSWORD and "
                  "MAIL_FROM, or run with --dry-run to print what would be sent.")
# What a run says of a person it sends nothing to.
NOT_SENDING = {
    "sent": "already sent",
    "nothing": "not sent: they see no location",
    "not_over": "not yet: the week ends at {end} UTC on their clock ({zone}); a later run sends it",
}


@digest_group.command("send")
@click.option("--dry-run", is_flag=True,
              help="Print what would be sent (headers and plain text); send and record nothing.")
@click.option("--week", "week_text", metavar="ISO-WEEK", default=None,
              help=f"The ISO week to send, e.g. {digest.WEEK_EXAMPLE} "
                   "[default: the previous week, Monday to Sunday, by UTC's calendar].")
def send_digest(dry_run, week_text):
    """Send each regional manager and manager their digest of a week, once: a person
    whose digest of that week was sent gets nothing new."""
    now = utcnow()
    config = current_app.config
    try:
        week = digest.week_to_send(week_text, now)
        links = Links(public_base_url(config))
        settings = mail.mail_settings(config)
    except InvalidInput as exc:
        _fail(exc)
    if settings is None and not dry_run:
        click.secho(f"error: {NO_MAIL_SERVER}", fg="red", err=True)
        sys.exit(1)
    sender = settings.sender if settings else config.get("MAIL_FROM") or "momento@localhost"
    counts = {"sent": 0, "would send": 0, "refused": 0, "skipped": 0}
    with contextlib.ExitStack() as stack:
        mailer = None
        for recipient in digest.recipients(week, now):
            user = recipient.user
            if recipient.state != "send":
                said = NOT_SENDING[recipient.state].format(
                    end=recipient.period.end.strftime("%Y-%m-%d %H:%M"), zone=recipient.zone)
                click.echo(f"{user.email}: {said}")
                counts["skipped"] += 1
                continue
            written = render(digest.digest_of(recipient, week, now), links)
            try:
                msg = mail.message(sender, user.name, user.email, written.subject, written.text,
                                   written.html, written.language)
            except mail.BAD_ADDRESS as exc:
                click.secho(f"{user.email}: not sent: an e-mail cannot be addressed to it ({exc})",
                            fg="red", err=True)
                counts["refused"] += 1
                continue
            if dry_run:
                click.echo(f"--- would send to {msg['To']} ({written.language})")
                click.echo(f"From: {msg['From']}\nSubject: {msg['Subject']}\n")
                click.echo(written.text)
                click.echo(f"(and the same as HTML, {len(written.html)} characters)\n")
                counts["would send"] += 1
                continue
            try:
                if mailer is None:
                    mailer = stack.enter_context(mail.Mailer(settings))
                mailer.send(msg)
            except (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError,
                    smtplib.SMTPNotSupportedError) as exc:
                click.secho(f"{user.email}: refused by the mail server: {exc}", fg="red", err=True)
                counts["refused"] += 1
                continue
            except (smtplib.SMTPException, OSError) as exc:
                click.secho(f"error: the mail server {settings.server}:{settings.port} failed "
                            f"({exc.__class__.__name__}: {exc}); {counts['sent']} digests were "
                            "sent and recorded, the others will be sent by the next run.",
                            fg="red", err=True)
                sys.exit(1)
            if digest.record_delivery(user, week, msg["Message-ID"], utcnow()):
                click.echo(f"{user.email}: sent ({written.language})")
            else:
                click.secho(f"{user.email}: sent ({written.language}), but another run had sent "
                            "it meanwhile: do not run two at once", fg="yellow")
            counts["sent"] += 1
    done = ", ".join(f"{n} {what}" for what, n in counts.items()
                     if n or what == ("would send" if dry_run else "sent"))
    click.echo(f"Digest of {week} ({week.monday.isoformat()} to {week.sunday.isoformat()}): {done}.")
    if counts["refused"]:
        sys.exit(1)


@click.command("doctor")
@with_appcontext
def doctor_command():
    """Check this deployment: database and migrations, checklists, photo store, secret key,
    rate-limit storage, mail. One line each; exit status 1 if any check fails."""
    from . import doctor

    findings = doctor.examine()
    colours = {doctor.OK: "green", doctor.WARN: "yellow", doctor.FAIL: "red"}
    for finding in findings:
        click.secho(finding.line(), fg=colours.get(finding.status))
    failed = sum(finding.status == doctor.FAIL for finding in findings)
    if failed:
        click.secho(f"{failed} of {len(findings)} checks failed.", fg="red", err=True)
        sys.exit(1)


def register(app):
    for command in (seed_demo, users, regions, locations, checklist_group, cadence_group,
                    photo_group, digest_group, doctor_command):
        app.cli.add_command(command)
