"""What the tests share: databases of their own, a small organisation, and the
builders of audits and actions. Test modules import from here, never from each other."""
import contextlib
import functools
import json
import os
import uuid
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg
import pytest
import sqlalchemy as sa
from hypothesis import example, given
from hypothesis import strategies as st

from audit_server import create_app
from audit_server.extensions import db
from audit_server.models import CorrectiveAction, Location
from audit_server.services import accounts, org

PASSWORD = "correct horse battery"

# What users and attackers send where a field expects something tame: text with a NUL or
# a lone surrogate, integers beyond 32 and 64 bits, dates far outside any audit.
OFFSETS = [timezone(timedelta(hours=h)) for h in (-12, -3, 0, 5, 14)]
HOSTILE = st.one_of(
    st.text(max_size=12).map(lambda s: s[: len(s) // 2] + "\x00" + s[len(s) // 2:]),
    st.tuples(st.text(max_size=6), st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF),
              st.text(max_size=6)).map("".join),
    st.integers(min_value=2**31, max_value=2**80),
    st.integers(min_value=-(2**80), max_value=-(2**31) - 1),
    st.builds(lambda moment, offset: moment.replace(tzinfo=offset).isoformat(),
              st.datetimes(max_value=datetime(1999, 12, 31)) | st.datetimes(min_value=datetime(2100, 1, 1)),
              st.sampled_from(OFFSETS)),
)
HOSTILE_EXAMPLES = ("\x00", "caf\udce9", 2**31, 2**63, 10**20, "9999-12-31T23:59:59-12:00",
                    "0001-01-01T00:00:00+14:00")


def cannot_run_here(message):
    """A test that needs what this machine lacks (chromium, Redis, nginx): it says so loudly
    and is skipped, as the Makefile's PostgreSQL run is; under CI=true, where .ci/run
    provides everything, it fails instead."""
    print("\n" + "!" * 78 + f"\n!!! {message}\n" + "!" * 78)
    if os.environ.get("CI") == "true":
        pytest.fail(f"{message} CI=true: a test that cannot run fails (.ci/run provides what it needs).")
    pytest.skip(message)


def given_hostile_values(test):
    """Run `test(..., value=...)` with each of HOSTILE_EXAMPLES, then with HOSTILE's draws."""
    for value in HOSTILE_EXAMPLES:
        test = example(value=value)(test)
    return given(value=HOSTILE)(test)


def encoded(value):
    """A value as the bytes of text a client could send, lone surrogates included."""
    return str(value).encode("utf-8", "surrogatepass")
WALK_IN = "five_second_walk_in"
PHONE_CALL = "call_your_own_number"

# A walk-in in which the floor and the entrance fail, as a phone's form gives it.
WALK_IN_ANSWERS = {
    "greeted_within_5s": "yes", "smile": "yes", "staff_available": "yes",
    "floor_clean": "no", "entrance_clear": "no", "lighting_signage": "yes",
    "queue_managed": "na", "smell_noise": "yes", "overall_impression": "4",
}


@contextlib.contextmanager
def new_database(directory):
    """The URL of an empty database of its own, dropped afterwards: on the PostgreSQL
    server TEST_DATABASE_URL names, else a SQLite file in `directory`."""
    server = os.environ.get("TEST_DATABASE_URL")
    if not server:
        yield f"sqlite:///{directory / 'test.db'}"
        return
    url = sa.make_url(server).set(drivername="postgresql")
    name = f"momento_test_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    admin = url.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name, drivername="postgresql+psycopg").render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


class Org:
    """A small organisation: regions N and S; locations N1, N2 (in N) and S1 (in S);
    an admin, a regional manager of N, a manager of N1 and a manager of S1."""

    PASSWORD = PASSWORD

    def __init__(self, app):
        self.app = app
        n = org.create_region("N", "North")
        s = org.create_region("S", "South")
        org.import_locations(
            "code,name,region,address,phone,timezone\n"
            "N1,North One,N,Street 1,+34 900 000 001,Europe/Madrid\n"
            "N2,North Two,N,Street 2,+34 900 000 002,Europe/Madrid\n"
            "S1,South One,S,Street 3,+1 555 000 0003,America/Mexico_City\n"
        )
        self.regions = {"N": n.id, "S": s.id}
        self.locations = {loc.code: loc.id for loc in db.session.scalars(sa.select(Location))}
        self.users = {
            "admin": accounts.create_user("admin@example.com", "admin", PASSWORD),
            "regional": accounts.create_user("regional@example.com", "regional", PASSWORD, ["N"]),
            "manager": accounts.create_user("manager@example.com", "manager", PASSWORD, [], ["N1"]),
            "manager_s": accounts.create_user("south@example.com", "manager", PASSWORD, [], ["S1"]),
        }
        self.emails = {role: user.email for role, user in self.users.items()}
        self.ids = {role: user.id for role, user in self.users.items()}
        self._tokens = {}

    def add_locations(self, *rows):
        """More locations, each a CSV row: code,name,region,address,phone,timezone."""
        org.import_locations("code,name,region,address,phone,timezone\n" + "\n".join(rows))
        self.locations = {loc.code: loc.id for loc in db.session.scalars(sa.select(Location))}

    def headers(self, role):
        """Authorization headers for one of the users."""
        if role not in self._tokens:
            with self.app.app_context():
                user = db.session.merge(self.users[role])
                self._tokens[role], _ = accounts.issue_token(user, 1)
        return {"Authorization": f"Bearer {self._tokens[role]}"}


def best_walk_in():
    return {
        "first_noticed": {"value": "A tidy shop and a smile"},
        "greeted_within_5s": {"value": True}, "smile": {"value": True},
        "staff_available": {"value": True}, "floor_clean": {"value": True},
        "entrance_clear": {"value": True}, "lighting_signage": {"value": True},
        "queue_managed": {"value": True}, "smell_noise": {"value": True},
        "overall_impression": {"value": 5},
    }


def best_phone():
    return {
        "answered": {"value": True}, "rings_to_answer": {"value": 2},
        "menu_easy": {"value": True}, "greeting_business_name": {"value": True},
        "greeting_own_name": {"value": True}, "courtesy": {"value": 5},
        "reached_person": {"value": True}, "transfers": {"value": 0},
        "warm_transfer": {"value": "na"}, "hold_seconds": {"value": 10},
        "not_my_department": {"value": False}, "owned": {"value": True},
        "follow_up_promised": {"value": True}, "useful": {"value": 5},
        "first_impression": {"value": "Friendly"}, "call_seconds": {"value": 95},
    }


def failing(*items):
    """Walk-in answers where the given yes/no items failed."""
    answers = best_walk_in()
    for item in items:
        answers[item] = {"value": False}
    return answers


def audit_body(location_id, checklist_id=WALK_IN, answers=None, **extra):
    """A submission of a new audit (started three minutes ago), best answers by default."""
    started = datetime.now(timezone.utc) - timedelta(minutes=3)
    body = {
        "id": str(uuid.uuid4()),
        "location_id": location_id,
        "checklist_id": checklist_id,
        "started_at": started.isoformat(),
        "submitted_at": (started + timedelta(minutes=2)).isoformat(),
        "answers": answers if answers is not None else (
            best_walk_in() if checklist_id == WALK_IN else best_phone()),
        "notes": "",
    }
    body.update(extra)
    return body


def submit(client, organisation, role="manager", location="N1", answers=None, at=None,
           expect=201, checklist=WALK_IN):
    """Submit an audit, a walk-in unless `checklist` says (submitted `at`, default a minute
    ago), and return its JSON."""
    extra = {}
    if at is not None:
        extra = {"started_at": (at - timedelta(minutes=2)).isoformat(),
                 "submitted_at": at.isoformat()}
    body = audit_body(organisation.locations[location], checklist, answers, **extra)
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers(role))
    assert r.status_code == expect, r.get_json()
    return r.get_json()


def local_noon(days_ago, zone="Europe/Madrid"):
    """Noon on a location's clock `days_ago` days before its today, as a UTC instant: a
    moment whose local date is exactly that many days back, whatever the time of day."""
    today = datetime.now(ZoneInfo(zone)).date()
    return datetime.combine(today - timedelta(days=days_ago), time(12), ZoneInfo(zone)).astimezone(timezone.utc)


def phone_answers(**values):
    """The best phone answers, with these values ({item_id: value}) instead."""
    return best_phone() | {item: {"value": value} for item, value in values.items()}


# A call nobody answered: the items asked once someone answers do not apply.
UNANSWERED_CALL = {"answered": {"value": False}, "call_seconds": {"value": 40}}


def utc(text):
    """An aware UTC datetime from 'YYYY-MM-DD HH:MM'."""
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


class ReportData:
    """The report tests' data set, on top of Org: region N gets N3 (Mexico City) and N4
    (Madrid, never audited); S keeps its one location. The period is 9 to 22 November
    2026 on Madrid's clock ([8 Nov 23:00, 22 Nov 23:00) UTC), the previous period the 14
    days before; `now` is Monday 23 November 10:00 UTC. Scores are those the audits store
    (one decimal).

    N1 (Madrid)  a0 1 Nov 10:00  walk-in, smell fails               14/15 = 93.3 (previous period)
                 a1 10 Nov 10:00 walk-in, smile fails               13/15 = 86.7
                 a2 15 Nov 22:30 (Sun 23:30 local) queue N/A, floor fails 12/14 = 85.7
                 a3 15 Nov 23:30 (Mon 00:30 local) greeting fails (critical) 12/15 = 80.0
    N2 (Madrid)  b0 28 Oct 09:00 phone, best                        24/24 = 100 (previous)
                 b1 12 Nov 09:00 phone, best: 2 rings, 10 s hold    24/24 = 100
                 b2 13 Nov 09:00 phone, not answered (critical)       0/3 = 0.0
                 b3 14 Nov 09:00 phone: 5 rings, 40 s hold, 2 transfers, warm transfer,
                                 "not my department" (critical), nobody owned it
                                                                 17.5/26 = 67.3
                 b4 20 Nov 12:00 walk-in, best                      15/15 = 100
    N3 (Mexico)  c1 16 Nov 05:30 (Sun 23:30 local) smile and staff fail 11/15 = 73.3
                 c2 16 Nov 06:30 (Mon 00:30 local) entrance fails    14/15 = 93.3
    S1 (Mexico)  s1 18 Nov 12:00 walk-in, best                      15/15 = 100

    The actions the failures opened, set by hand (ACTIONS: status, first done, due):
    done within the period on time and late, a reopened one, open ones overdue and not,
    one first done after the period, and one closed in the previous period.
    """

    FROM, TO, ZONE = "2026-11-09", "2026-11-22", "Europe/Madrid"
    NOW = utc("2026-11-23 10:00")
    AUDITS = {
        "a0": ("N1", WALK_IN, "2026-11-01 10:00", failing("smell_noise")),
        "a1": ("N1", WALK_IN, "2026-11-10 10:00", failing("smile")),
        "a2": ("N1", WALK_IN, "2026-11-15 22:30",
               failing("floor_clean") | {"queue_managed": {"value": "na"}}),
        "a3": ("N1", WALK_IN, "2026-11-15 23:30", failing("greeted_within_5s")),
        "b0": ("N2", PHONE_CALL, "2026-10-28 09:00", best_phone()),
        "b1": ("N2", PHONE_CALL, "2026-11-12 09:00", best_phone()),
        "b2": ("N2", PHONE_CALL, "2026-11-13 09:00", UNANSWERED_CALL),
        "b3": ("N2", PHONE_CALL, "2026-11-14 09:00", phone_answers(
            rings_to_answer=5, hold_seconds=40, transfers=2, warm_transfer=True,
            not_my_department=True, owned=False)),
        "b4": ("N2", WALK_IN, "2026-11-20 12:00", best_walk_in()),
        "c1": ("N3", WALK_IN, "2026-11-16 05:30", failing("smile", "staff_available") | {
            "smile": {"value": False, "comment": "Nadie sonrió 😐, ni «hola»"}}),
        "c2": ("N3", WALK_IN, "2026-11-16 06:30", failing("entrance_clear")),
        "s1": ("S1", WALK_IN, "2026-11-18 12:00", best_walk_in()),
    }
    # (location, item): (status, first move to done or None, due), all UTC.
    ACTIONS = {
        ("N1", "smell_noise"): ("verified", "2026-11-02 10:00", "2026-11-08 10:00"),  # 24 h, on time
        ("N1", "smile"): ("verified", "2026-11-11 10:00", "2026-11-17 10:00"),  # 24 h, on time
        ("N1", "floor_clean"): ("reopened", "2026-11-16 04:30", "2026-11-16 00:00"),  # 6 h, late
        ("N1", "greeted_within_5s"): ("open", None, "2026-11-16 23:30"),  # overdue
        ("N2", "answered"): ("done", "2026-11-13 19:00", "2026-11-14 09:00"),  # 10 h, on time
        ("N2", "not_my_department"): ("in_progress", None, "2026-11-15 09:00"),  # overdue
        ("N2", "owned"): ("open", None, "2026-11-30 09:00"),
        ("N3", "smile"): ("done", "2026-11-18 05:30", "2026-11-17 05:30"),  # 48 h, late
        ("N3", "staff_available"): ("open", None, "2026-11-30 09:00"),
        ("N3", "entrance_clear"): ("verified", "2026-11-23 08:00", "2026-11-23 06:30"),  # after
    }

    def __init__(self, app, client, organisation):
        organisation.add_locations(
            "N3,Norte Tres – Coyoacán,N,Calle 3,+52 55 0000 0003,America/Mexico_City",
            "N4,North Four,N,Street 4,+34 900 000 004,Europe/Madrid")
        self.audits = {
            name: submit(client, organisation, "admin", location, answers, utc(at),
                         checklist=checklist)["id"]
            for name, (location, checklist, at, answers) in self.AUDITS.items()}
        with app.app_context():
            actions = {(code, item): action_id for code, item, action_id in db.session.execute(
                sa.select(Location.code, CorrectiveAction.item_id, CorrectiveAction.id)
                .select_from(CorrectiveAction).join(CorrectiveAction.location))}
        assert set(actions) == set(self.ACTIONS)
        for key, (status, first_done, due) in self.ACTIONS.items():
            done = first_done and utc(first_done)
            set_columns(app, actions[key], status=status, first_done_at=done, due_at=utc(due),
                        closed_at=None if status == "reopened" else done,
                        verified_at=done if status == "verified" else None)


def set_columns(app, action_id, **values):
    """Change an action's stored columns directly (what a test cannot wait for)."""
    with app.app_context():
        db.session.execute(sa.update(CorrectiveAction).where(CorrectiveAction.id == action_id)
                           .values(**values))
        db.session.commit()


CHECKLISTS = Path(__file__).resolve().parents[1] / "checklists"


def built_in_checklist(checklist_id):
    definition = json.loads((CHECKLISTS / f"{checklist_id}.json").read_text(encoding="utf-8"))
    definition.pop("$schema")
    return definition


def built_in_without(checklist_id, *keys):
    """A built-in checklist none of whose items says `keys` (e.g. "guidance", "action_title")."""
    definition = built_in_checklist(checklist_id)
    for section in definition["sections"]:
        for item in section["items"]:
            for key in keys:
                item.pop(key, None)
    return definition


def new_version(checklist_id):
    """A built-in checklist with a new intro: a version nobody has stored yet."""
    definition = built_in_checklist(checklist_id)
    marker = uuid.uuid4().hex[:8]
    definition["intro"] = {"es": f"Versión {marker} ¿sí? 🙂", "en": f"Version {marker}"}
    return definition


def checklist_folder(directory, *definitions):
    """A checklists folder (what CHECKLISTS_DIR names) holding these definitions."""
    directory.mkdir(parents=True, exist_ok=True)
    for definition in definitions:
        (directory / f"{definition['id']}.json").write_text(
            json.dumps(definition, ensure_ascii=False, indent=2), encoding="utf-8")
    return directory


def every_type_walk_in():
    """A walk-in checklist with an item of every type: the widgets of the audit page."""
    def text(es, en):
        return {"es": es, "en": en}

    return {
        "id": "every_type", "kind": "walk_in", "title": text("Todos los tipos", "Every type"),
        "intro": text("Entra y mira.", "Walk in and look."),
        "sections": [{"id": "all", "title": text("Todo", "All"), "items": [
            {"id": "seen_first", "type": "text", "label": text("¿Qué viste primero?", "What did you see first?")},
            {"id": "greeted", "type": "yes_no", "critical": True, "photo_when_failed": True,
             "label": text("¿Te saludaron?", "Were you greeted?")},
            {"id": "ignored", "type": "yes_no", "bad_answer": "yes", "na_allowed": True,
             "label": text("¿Te ignoraron?", "Were you ignored?")},
            {"id": "tidiness", "type": "rating", "label": text("Orden", "Tidiness")},
            {"id": "queue", "type": "count", "max": 20, "photo_when_failed": True,
             "bands": [{"max": 2, "fraction": 1}, {"max": 4, "fraction": 0.5}, {"fraction": 0}],
             "label": text("Personas en la cola", "People in the queue")},
            {"id": "wait", "type": "seconds", "max": 600,
             "bands": [{"max": 60, "fraction": 1}, {"max": 120, "fraction": 0.25}, {"fraction": 0}],
             "label": text("Segundos de espera", "Seconds waited")},
            {"id": "shelves", "type": "choice", "na_allowed": True, "photo_when_failed": True,
             "options": [{"value": "spotless", "label": text("Impecables", "Spotless"), "points": 4},
                         {"value": "ok", "label": text("Bien", "OK"), "points": 2},
                         {"value": "messy", "label": text("Desordenadas", "Messy"), "points": 0}],
             "label": text("Estanterías", "Shelves")},
        ]}],
    }


@functools.cache
def served_document():
    """The OpenAPI document the app serves (it does not depend on the database), for
    tests that are built from it when they are collected."""
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    response = app.test_client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def document_operations(document):
    """(METHOD, path, operation) for every operation of an OpenAPI document."""
    return [(method.upper(), path, operation)
            for path, item in document["paths"].items()
            for method, operation in item.items() if method != "parameters"]


def document_schemas(document):
    """(where, schema, read) for every schema an OpenAPI document uses, nested ones
    included and references followed: `read` tells what the API reads (parameters,
    request bodies) from what it writes (responses)."""
    components = document["components"]["schemas"]
    seen = set()

    def walk(where, schema, read):
        if "$ref" in schema:
            name = schema["$ref"].rsplit("/", 1)[-1]
            if (name, read) not in seen:
                seen.add((name, read))
                yield from walk(name, components[name], read)
            return
        yield where, schema, read
        for name, inner in schema.get("properties", {}).items():
            yield from walk(f"{where}.{name}", inner, read)
        for key in ("items", "additionalProperties"):
            if isinstance(schema.get(key), dict) and schema[key]:
                yield from walk(f"{where}[{key}]", schema[key], read)
        for key in ("anyOf", "oneOf", "allOf"):
            for index, inner in enumerate(schema.get(key, [])):
                yield from walk(f"{where}<{key} {index}>", inner, read)

    for method, path, operation in document_operations(document):
        here = f"{method} {path}"
        parameters = document["paths"][path].get("parameters", []) + operation.get("parameters", [])
        for parameter in parameters:
            yield from walk(f"{here} {parameter['in']} {parameter['name']}", parameter["schema"], True)
        for media_type, content in operation.get("requestBody", {}).get("content", {}).items():
            yield from walk(f"{here} body ({media_type})", content["schema"], True)
        for status, response in operation["responses"].items():
            if "$ref" in response:
                response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            for media_type, content in response.get("content", {}).items():
                yield from walk(f"{here} {status} ({media_type})", content["schema"], False)
            for header, spec in response.get("headers", {}).items():
                yield from walk(f"{here} {status} header {header}", spec["schema"], False)
