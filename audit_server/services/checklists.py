"""Checklists: loading and checking the files, versions, and checking answers."""
import hashlib
import json
import logging
import math
from dataclasses import dataclass
from pathlib import Path

import jsonschema
import sqlalchemy as sa
from flask import current_app

from ..extensions import db
from ..models import ChecklistVersion
from .errors import InvalidInput, NotFound
from .scoring import NA, applies, iter_items

log = logging.getLogger(__name__)

TEXT_MAX = 2000
DEFAULT_MAX = {"count": 1000, "seconds": 86400}


@dataclass(frozen=True)
class Checklist:
    id: str
    version: str
    kind: str
    definition: dict

    def item(self, item_id):
        return next((i for _, i in iter_items(self.definition) if i["id"] == item_id), None)


def content_version(definition):
    """A checklist's version: the hash of its canonical JSON (key order and spacing don't count)."""
    canonical = json.dumps(definition, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def _schema():
    path = Path(__file__).resolve().parents[2] / "checklists" / "schema.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _json_path(parts):
    path = "$"
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def definition_errors(definition):
    """Every problem of a checklist definition as (JSON path, message), schema first."""
    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(
        ((_json_path(e.absolute_path), e.message) for e in validator.iter_errors(definition)),
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
            elif condition and seen[condition["item"]]["type"] == "text":
                errors.append((f"{here}.applies_if.item", "a condition cannot depend on a text item"))
            bands = item.get("bands", [])
            maxima = [b["max"] for b in bands if "max" in b]
            if bands and ("max" in bands[-1] or len(maxima) != len(bands) - 1):
                errors.append((f"{here}.bands", "only the last band, and it alone, must have no max"))
            if maxima != sorted(set(maxima)):
                errors.append((f"{here}.bands", "band maxima must increase"))
            options = item.get("options", [])
            if len({o["value"] for o in options}) != len(options):
                errors.append((f"{here}.options", "option values must be unique"))
            if options and not any(o["points"] > 0 for o in options):
                errors.append((f"{here}.options", "at least one option must earn points"))
            seen[item["id"]] = item
    return errors


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
            loaded[definition["id"]] = Checklist(
                definition["id"], content_version(definition), definition["kind"], definition
            )
    return loaded


def current_checklists():
    return current_app.extensions["momento.checklists"]


def current_checklist(checklist_id):
    checklist = current_checklists().get(checklist_id)
    if checklist is None:
        raise NotFound(f"No checklist {checklist_id!r}.")
    return checklist


def store_versions(checklists):
    """Make sure every loaded checklist version has its row (safe to run concurrently)."""
    for checklist in checklists.values():
        ensure_stored(checklist)


def ensure_stored(checklist):
    """Insert the row of a loaded checklist version if it is new.

    Version rows are immutable and never deleted, so a version once seen stored
    is not looked up again by this process.
    """
    stored = current_app.extensions["momento.stored_versions"]
    key = (checklist.id, checklist.version)
    if key in stored:
        return
    if db.session.get(ChecklistVersion, key) is None:
        try:
            with db.session.begin_nested():
                db.session.add(ChecklistVersion(checklist_id=checklist.id, version=checklist.version,
                                                kind=checklist.kind, definition=checklist.definition))
        except sa.exc.IntegrityError:
            pass  # another worker stored the same version at the same moment
        db.session.commit()
    stored.add(key)


def find_version(checklist_id, version=None):
    """A checklist at a given version (default: the current one), stored."""
    current = current_checklists().get(checklist_id)
    if version is None or (current and current.version == version):
        if current is None:
            raise NotFound(f"No checklist {checklist_id!r}.")
        ensure_stored(current)
        return current
    row = db.session.get(ChecklistVersion, (checklist_id, version))
    if row is None:
        raise NotFound(f"No version {version!r} of checklist {checklist_id!r}.")
    return Checklist(row.checklist_id, row.version, row.kind, row.definition)


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _value_error(item, value):
    """Why a (non-N/A) value is not a valid answer to an item, or None."""
    kind = item["type"]
    if kind == "yes_no" and not isinstance(value, bool):
        return "Must be true or false."
    if kind == "rating" and not (_is_number(value) and value == int(value) and 1 <= value <= 5):
        return "Must be a whole number from 1 to 5."
    if kind == "count":
        limit = item.get("max", DEFAULT_MAX["count"])
        if not (_is_number(value) and value == int(value)):
            return "Must be a whole number."
        if not 0 <= value <= limit:
            return f"Must be between 0 and {limit:g}."
    if kind == "seconds":
        limit = item.get("max", DEFAULT_MAX["seconds"])
        if not _is_number(value):
            return "Must be a number of seconds."
        if not 0 <= value <= limit:
            return f"Must be between 0 and {limit:g}."
    if kind == "choice" and value not in [o["value"] for o in item["options"]]:
        return "Must be one of: " + ", ".join(o["value"] for o in item["options"]) + "."
    if kind == "text":
        if not isinstance(value, str):
            return "Must be text."
        if len(value) > TEXT_MAX:
            return f"Must be at most {TEXT_MAX} characters."
    return None


def is_required(item):
    return item.get("required", item["type"] != "text")


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
        if value is None or (isinstance(value, str) and item["type"] == "text" and not value.strip()):
            if applicable[item_id] and is_required(item):
                problem = "An answer is required."
        elif value == NA:
            if not item.get("na_allowed"):
                problem = "N/A is not allowed for this item."
        else:
            problem = _value_error(item, value)
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
