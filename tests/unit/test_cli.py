"""The flask commands: users, regions, locations import and seed-demo."""
import sqlalchemy as sa

from audit_server.extensions import db
from audit_server.models import ActionEvent, Audit, CorrectiveAction, Location, User
from audit_server.models.actions import action_audits
from audit_server.services.accounts import authenticate

CSV = (
    "code,name,region,address,phone,timezone\n"
    "MAD-01,Madrid Centro,NORTE,Calle Mayor 1,+34 910 000 000,Europe/Madrid\n"
    "CDMX-01,Roma Norte,NORTE,Álvaro Obregón 10,+52 55 0000 0000,America/Mexico_City\n"
)


def locations(app):
    with app.app_context():
        return {loc.code: (loc.name, loc.timezone) for loc in db.session.scalars(sa.select(Location))}


def test_locations_import_upserts_by_code(app, runner, tmp_path):
    assert runner.invoke(args=["regions", "create", "NORTE", "Región Norte"]).exit_code == 0
    path = tmp_path / "locations.csv"
    path.write_text(CSV, encoding="utf-8")
    result = runner.invoke(args=["locations", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "2 created, 0 updated" in result.output
    path.write_text(CSV.replace("Madrid Centro", "Madrid Sol"), encoding="utf-8")
    result = runner.invoke(args=["locations", "import", str(path)])
    assert "0 created, 2 updated" in result.output
    assert locations(app)["MAD-01"] == ("Madrid Sol", "Europe/Madrid")


def test_bad_rows_are_reported_by_line_and_nothing_is_imported(app, runner, tmp_path):
    runner.invoke(args=["regions", "create", "NORTE", "Región Norte"])
    path = tmp_path / "locations.csv"
    path.write_text(CSV + "BAD CODE,,SUR,,not a phone,Mars/Olympus\nMAD-01,Twice,NORTE,,,UTC\n")
    result = runner.invoke(args=["locations", "import", str(path)])
    assert result.exit_code == 1
    assert "line 4: code: letters, digits" in result.output
    assert "line 4: region: unknown region code 'SUR'" in result.output
    assert "line 4: timezone: 'Mars/Olympus' is not a time zone" in result.output
    assert "line 4: phone: 'not a phone' is not a phone number" in result.output
    assert "line 5: code: 'MAD-01' already on line 2" in result.output
    assert locations(app) == {}


def test_import_needs_the_header(runner, tmp_path):
    path = tmp_path / "locations.csv"
    path.write_text("MAD-01,Madrid\n")
    result = runner.invoke(args=["locations", "import", str(path)])
    assert result.exit_code == 1 and "header lacks columns" in result.output


def test_users_create_reads_the_password_from_stdin(app, runner):
    runner.invoke(args=["regions", "create", "NORTE", "Norte"])
    result = runner.invoke(args=["users", "create", "Rosa@Example.com", "--role", "regional",
                                 "--region", "NORTE", "--password-stdin"],
                           input="a long enough password\n")
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = authenticate("rosa@example.com", "a long enough password")
        assert user.role == "regional" and [r.code for r in user.regions] == ["NORTE"]


def test_users_create_rejects_bad_input(app, runner):
    result = runner.invoke(args=["users", "create", "not-an-email", "--role", "manager",
                                 "--location", "NOWHERE", "--password-stdin"], input="short\n")
    assert result.exit_code == 1
    assert "email: Not an email address." in result.output
    assert "password: Must be at least 10 characters." in result.output
    assert "locations: Unknown location: NOWHERE." in result.output
    result = runner.invoke(args=["users", "create", "a@b.co", "--role", "regional",
                                 "--password-stdin"], input="long enough password\n")
    assert "A regional manager needs at least one region." in result.output
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(User)) == 0


def test_seed_demo_is_deterministic_and_idempotent(app, runner):
    result = runner.invoke(args=["seed-demo", "--audits", "30", "--until", "2026-06-30"])
    assert result.exit_code == 0, result.output
    assert "admin@momento.example" in result.output and "momento-demo" in result.output
    with app.app_context():
        first = db.session.execute(sa.select(Audit.id, Audit.score_percent).order_by(Audit.id)).all()
    assert len(first) == 30
    result = runner.invoke(args=["seed-demo", "--audits", "30", "--until", "2026-06-30"])
    assert "0 new audits" in result.output
    with app.app_context():
        for table in (ActionEvent.__table__, action_audits, CorrectiveAction.__table__,
                      Audit.__table__):
            db.session.execute(table.delete())
        db.session.commit()
    runner.invoke(args=["seed-demo", "--audits", "30", "--until", "2026-06-30"])
    with app.app_context():
        again = db.session.execute(sa.select(Audit.id, Audit.score_percent).order_by(Audit.id)).all()
        assert again == first
        assert len({p for _, p in first}) > 3  # a varied history, not one score
        statuses = set(db.session.scalars(sa.select(CorrectiveAction.status)))
        assert {"open", "verified"} <= statuses  # failures became actions, some followed up


def test_cadence_set_list_and_reset(app, runner):
    runner.invoke(args=["regions", "create", "NORTE", "Región Norte"])
    runner.invoke(args=["regions", "create", "SUR", "Región Sur"])
    result = runner.invoke(args=["cadence", "set", "NORTE", "five_second_walk_in", "3"])
    assert result.exit_code == 0, result.output
    assert result.output == "NORTE: five_second_walk_in is due every 3 days.\n"
    result = runner.invoke(args=["cadence", "list"])
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "NORTE\tcall_your_own_number\t14 days  (default)", "NORTE\tfive_second_walk_in\t3 days",
        "SUR\tcall_your_own_number\t14 days  (default)", "SUR\tfive_second_walk_in\t7 days  (default)"]
    assert runner.invoke(args=["cadence", "list", "SUR"]).output.count("\n") == 2
    result = runner.invoke(args=["cadence", "reset", "NORTE", "five_second_walk_in"])
    assert result.exit_code == 0 and "default cadence again" in result.output
    assert "NORTE\tfive_second_walk_in\t7 days  (default)" in runner.invoke(args=["cadence", "list"]).output


def test_cadence_set_refuses_what_is_not_a_region_a_checklist_or_a_cadence(app, runner):
    runner.invoke(args=["regions", "create", "NORTE", "Región Norte"])
    refused = {
        ("ESTE", "five_second_walk_in", "7"): "error: No region 'ESTE'.\n  region: Regions: NORTE.",
        ("NORTE", "walk_in", "7"): "error: No checklist 'walk_in'.\n  checklist: Checklists: "
                                   "call_your_own_number, five_second_walk_in.",
        ("NORTE", "five_second_walk_in", "0"): "error: A cadence is a whole number of days from 1 to 365.",
        ("NORTE", "five_second_walk_in", "366"): "error: A cadence is a whole number of days from 1 to 365.",
        ("NORTE", "five_second_walk_in", "siete"): "'siete' is not a valid integer",
        ("NORTE", "five_second_walk_in", "7.5"): "'7.5' is not a valid integer",
    }
    for arguments, message in refused.items():
        result = runner.invoke(args=["cadence", "set", *arguments])
        assert result.exit_code != 0, arguments
        assert message in result.output, result.output
    assert "ESTE" in runner.invoke(args=["cadence", "list", "ESTE"]).output
    assert runner.invoke(args=["cadence", "list"]).output.count("(default)") == 2
