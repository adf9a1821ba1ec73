"""Checklists: loading and checking the files, versions, and checking answers."""
import functools
import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import ChecklistVersion
from . import item_types
from .errors import InvalidInput, NotFound
from .scoring import NA, applies, iter_items

log = logging.getLogger(__name__)

SYNC_COMMAND = "flask --app audit_server checklists sync"
# What an item says about its failure: what good looks like, and the fix as a task.
COACHING = ("guidance", "action_title")
FILE_SCHEMA = Path(__file__).resolve().parents[2] / "checklists" / "schema.json"


@dataclass(frozen=True)
class Checklist:
    id: str
    version: str
    kind: str
    definition: dict

    @classmethod
    def of(cls, definition):
        """The checklist of a valid definition, at the version its content gives it."""
        return cls(definition["id"], content_version(definition), definition["kind"], definition)

    def item(self, item_id):
        return next((i for _, i in iter_items(self.definition) if i["id"] == item_id), None)


# A version as content_version makes it.
VERSION = re.compile(r"[0-9a-f]{16}")


def content_version(definition):
    """A checklist's version: the hash of its canonical JSON (key order and spacing don't count)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


@functools.cache
def file_schema():
    """checklists/schema.json, the JSON Schema of a checklist file, read once (do not change it)."""
    return json.loads(FILE_SCHEMA.read_text(encoding="utf-8"))


@functools.cache
def _file_validator():
    return jsonschema.Draft202012Validator(file_schema())


def _json_path(parts):
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def definition_errors(definition):
    """Every problem of a checklist definition as (JSON path, message), schema first."""
    errors = sorted(
        ((_json_path(e.absolute_path), e.message) for e in _file_validator().iter_errors(definition)),
    )
    if errors:
        return errors
    seen = {}
    section_ids = set()
    for s_index, section in enumerate(definition["sections"]):
        if section["id"] in section_ids:
            errors.append((f"$.sections[{s_index}].id", f"duplicate section id {section['id']!r}"))
        section_ids.add(section["id"])
        for i_index, item in enumerate(section["items"]):
            here = f"$.sections[{s_index}].items[{i_index}]"
            if item["id"] in seen:
                errors.append((f"{here}.id", f"duplicate item id {item['id']!r}"))
            condition = item.get("applies_if")
            if condition and condition["item"] not in seen:
                errors.append((f"{here}.applies_if.item",
                               f"{condition['item']!r} is not an earlier item of this checklist"))
            elif condition and not item_types.type_of(seen[condition["item"]]).may_be_a_condition:
                errors.append((f"{here}.applies_if.item",
                               f"a condition cannot depend on a {seen[condition['item']]['type']} item"))
            elif condition and (problem := _condition_error(seen[condition["item"]], condition["equals"])):
                errors.append((f"{here}.applies_if.equals",
                               f"never an answer to {condition['item']!r}: {problem}"))
            errors.extend((here + below, message) for below, message in item_types.definition_errors(item))
            errors.extend((f"{here}.{key}", f"{key} is never used: the item is not scored, so it never fails")
                          for key in COACHING if key in item and not item_types.is_scored(item))
            seen[item["id"]] = item
    return errors


def _condition_error(item, value):
    """Why an item's answers can never equal `value`, or None."""
    return "N/A is never a condition." if value == NA else item_types.value_error(item, value)


def check_file(path):
    """Load one checklist file; return (definition or None, [(JSON path, message)])."""
    try:
        definition = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        return None, [("$", f"cannot read the file: {exc}")]
    except json.JSONDecodeError as exc:
        return None, [("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
    if not isinstance(definition, dict):
        return None, [("$", "a checklist must be a JSON object")]
    definition.pop("$schema", None)
    errors = definition_errors(definition)
    if not errors and definition["id"] != Path(path).stem:
        errors.append(("$.id", f"the id {definition['id']!r} must match the file name {Path(path).stem!r}"))
    return (None if errors else definition), errors


def checklist_files(directory):
    return sorted(p for p in Path(directory).glob("*.json") if p.name != "schema.json")


def load_directory(directory):
    """The valid checklists of a folder by id; invalid files are logged and left out."""
    loaded = {}
    for path in checklist_files(directory):
        definition, errors = check_file(path)
        for where, message in errors:
            log.error("checklist %s is not loaded: %s: %s", path, where, message)
        if definition:
            loaded[definition["id"]] = Checklist.of(definition)
    return loaded


def current_checklists():
    return current_app.extensions["momento.checklists"]


def current_checklist(checklist_id):
    checklist = current_checklists().get(checklist_id)
    if checklist is None:
        raise NotFound(f"No checklist {checklist_id!r}.")
    return checklist


def stored_keys():
    """The (checklist id, version) of every stored checklist version."""
    rows = db.session.execute(sa.select(ChecklistVersion.checklist_id, ChecklistVersion.version))
    return {(checklist_id, version) for checklist_id, version in rows}


def store_versions(checklists):
    """Store every version of `checklists` (a dict by id) that is not stored yet, as
    `checklists sync` does; safe to run again and concurrently. Returns those stored now."""
    return [checklist for checklist in checklists.values() if ensure_stored(checklist)]


def ensure_stored(checklist):
    """Make sure a checklist version has its row; True if this call inserted it.

    The row is written and committed on a connection of its own, so it never depends
    on (or commits) the caller's transaction; call this before the caller writes. Rows
    are immutable and never deleted, so a version once seen stored is not looked up
    again by this process.
    """
    stored = current_app.extensions["momento.stored_versions"]
    key = (checklist.id, checklist.version)
    if key in stored:
        return False
    with db.engine.connect() as connection:
        inserted = False
        if connection.scalar(sa.select(ChecklistVersion.version).where(
                ChecklistVersion.checklist_id == checklist.id,
                ChecklistVersion.version == checklist.version)) is None:
            inserted = _insert_version(connection, checklist)
    stored.add(key)
    return inserted


def _insert_version(connection, checklist):
    """INSERT a version's row and commit; False if another process just stored it."""
    try:
        connection.execute(ChecklistVersion.__table__.insert().values(
            checklist_id=checklist.id, version=checklist.version, kind=checklist.kind,
            definition=checklist.definition))
        connection.commit()
    except sa.exc.IntegrityError:
        connection.rollback()
        return False
    return True


def find_version(checklist_id, version=None):
    """A checklist at a given version (default: the current one), stored.

    The current version of a file is normally stored by `checklists sync`; if it was
    not, it is stored now, when first needed, and the log says so."""
    current = current_checklists().get(checklist_id)
    if version is None or (current and current.version == version):
        if current is None:
            raise NotFound(f"No checklist {checklist_id!r}.")
        if ensure_stored(current):
            current_app.logger.warning(
                "checklist %s: version %s of its file was not stored yet, so it was stored now, "
                "when first needed; run `%s` after changing checklist files",
                current.id, current.version, SYNC_COMMAND)
        return current
    row = db.session.get(ChecklistVersion, (checklist_id, version))
    if row is None:
        raise NotFound(f"No version {version!r} of checklist {checklist_id!r}.")
    return Checklist(row.checklist_id, row.version, row.kind, row.definition)


def validate_answers(checklist, answers):
    """Raise InvalidInput naming every bad answer (field paths like answers.<item_id>).

    `answers` maps item ids to {"value": ..., "comment": ...}, shaped as the API's
    schema has it (schemas/audits.py checks each answer's shape and comment). Items that do not
    apply (their condition is not met) need no answer; one that is given anyway
    is kept but not scored.
    """
    definition = checklist.definition
    errors = {}
    known = {item["id"] for _, item in iter_items(definition)}
    for item_id in answers:
        if item_id not in known:
            errors[f"answers.{item_id}"] = ["Unknown item for this checklist."]
    answers = {k: a for k, a in answers.items() if k in known}
    values = {k: a.get("value") for k, a in answers.items()}
    applicable = {}
    for _, item in iter_items(definition):
        item_id = item["id"]
        answer = answers.get(item_id) or {}
        value = answer.get("value")
        applicable[item_id] = applies(item, values, applicable)
        problem = None
        if item_types.is_unanswered(item, value):
            if applicable[item_id] and item_types.is_required(item):
                problem = "An answer is required."
        elif value == NA:
            if not item.get("na_allowed"):
                problem = "N/A is not allowed for this item."
        else:
            problem = item_types.value_error(item, value)
        if problem:
            errors.setdefault(f"answers.{item_id}", [problem])
    if errors:
        raise InvalidInput("Some answers are not valid for this checklist.", errors)


def current_checklist_of_kind(kind):
    """The current checklist of a kind ("walk_in", "phone"); the first by id if several."""
    matches = sorted((c for c in current_checklists().values() if c.kind == kind), key=lambda c: c.id)
    if not matches:
        raise NotFound(f"No {kind} checklist.")
    return matches[0]


def stored_versions(checklist_id=None):
    """The stored versions (ChecklistVersion rows), by checklist id then newest first."""
    stmt = sa.select(ChecklistVersion).order_by(ChecklistVersion.checklist_id, ChecklistVersion.created_at.desc())
    if checklist_id is not None:
        stmt = stmt.where(ChecklistVersion.checklist_id == checklist_id)
    return db.session.scalars(stmt).all()


def check_upload(data, filename=""):
    """(definition or None, [(JSON path, message)]) of an uploaded checklist file's bytes,
    checked as check_file checks a file of the folder (its name, if given, must be its id)."""
    try:
        definition = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        return None, [("$", "the file is not UTF-8 text")]
    except json.JSONDecodeError as exc:
        return None, [("$", f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}")]
    if not isinstance(definition, dict):
        return None, [("$", "a checklist must be a JSON object")]
    if "\x00" in json.dumps(definition, ensure_ascii=False):
        return None, [("$", "the file contains a NUL character")]
    definition.pop("$schema", None)
    errors = definition_errors(definition)
    stem = Path(filename or "").stem
    if not errors and stem and definition["id"] != stem:
        errors.append(("$.id", f"the id {definition['id']!r} must match the file name {stem!r}"))
    return (None if errors else definition), errors


def upload(actor, data, filename=""):
    """Store an uploaded checklist file as a version (nothing stored if it has any error:
    InvalidInput whose fields map JSON paths to messages). Returns (checklist, stored now).

    The version is a row of checklist_versions: immutable, never deleted, so it survives
    restarts and `checklists sync` (which only adds the folder's versions). It does not
    replace the folder's file: the current checklist of the phones stays the one of
    CHECKLISTS_DIR until that file is deployed."""
    from . import activity

    definition, errors = check_upload(data, filename)
    if errors:
        fields = {}
        for where, message in errors:
            fields.setdefault(where, []).append(message)
        raise InvalidInput("The checklist file has errors; nothing was stored.", fields)
    checklist = Checklist.of(definition)
    inserted = ensure_stored(checklist)
    if inserted:
        activity.record(actor, "checklist.upload", "checklist", f"{checklist.id}@{checklist.version}",
                        checklist.id, None, {"id": checklist.id, "version": checklist.version,
                                             "kind": checklist.kind})
        db.session.commit()
    return checklist, inserted
