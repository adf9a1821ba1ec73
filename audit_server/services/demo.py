"""A realistic demo organisation with a history of audits, made deterministically."""
import random
import uuid
from datetime import datetime, time, timedelta, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import CorrectiveAction, Location, Region, User
from .accounts import create_user
from .actions import change_action, follow_up_audit
from .audits import insert_audit, new_audit
from .checklists import current_checklist, store_versions
from .scoring import NA, applies, iter_items

DEMO_PASSWORD = "momento-demo"
REGIONS = [("NORTE", "Región Norte"), ("SUR", "Región Sur")]
LOCATIONS = [
    # code, name, region, address, phone, timezone, quality (chance an item is up to standard)
    ("MAD-01", "Madrid Centro", "NORTE", "Calle Mayor 12, Madrid", "+34 910 000 101", "Europe/Madrid", 0.93),
    ("MAD-02", "Madrid Chamberí", "NORTE", "Calle de Fuencarral 140, Madrid", "+34 910 000 102", "Europe/Madrid", 0.85),
    ("BIL-01", "Bilbao Abando", "NORTE", "Gran Vía 25, Bilbao", "+34 944 000 103", "Europe/Madrid", 0.78),
    ("SEV-01", "Sevilla Triana", "SUR", "Calle San Jacinto 30, Sevilla", "+34 954 000 104", "Europe/Madrid", 0.88),
    ("MAL-01", "Málaga Centro", "SUR", "Calle Larios 8, Málaga", "+34 952 000 105", "Europe/Madrid", 0.70),
    ("LPA-01", "Las Palmas Triana", "SUR", "Calle Triana 60, Las Palmas", "+34 928 000 106", "Atlantic/Canary", 0.82),
]
USERS = [
    # email, role, regions, locations, name
    ("admin@momento.example", "admin", [], [], "Ana Admin"),
    ("norte@momento.example", "regional", ["NORTE"], [], "Rosa Regional (Norte)"),
    ("sur@momento.example", "regional", ["SUR"], [], "Raúl Regional (Sur)"),
    ("madrid@momento.example", "manager", [], ["MAD-01", "MAD-02"], "Marta Manager (Madrid)"),
    ("bilbao@momento.example", "manager", [], ["BIL-01"], "Iker Manager (Bilbao)"),
    ("sevilla@momento.example", "manager", [], ["SEV-01"], "Lola Manager (Sevilla)"),
    ("malaga@momento.example", "manager", [], ["MAL-01"], "Pablo Manager (Málaga)"),
    ("canarias@momento.example", "manager", [], ["LPA-01"], "Nira Manager (Las Palmas)"),
]
CLOSING_NOTES = [
    "Hablado con el equipo en la reunión de la mañana.", "Briefed the team at the morning huddle.",
    "Turnos ajustados para cubrir la entrada.", "Added a second person at the counter at peak times.",
]
FIRST_NOTICED = [
    "Un cliente esperando en la caja", "Staff smiling at the counter", "Cajas apiladas en la entrada",
    "Good music, bright shop", "Nadie en el mostrador", "El suelo mojado junto a la puerta",
]


def demo_logins():
    return [(email, role, DEMO_PASSWORD) for email, role, *_ in USERS]


def seed_organisation():
    """Create the demo regions, locations and users that are not there yet."""
    regions = {r.code: r for r in db.session.scalars(sa.select(Region))}
    for code, name in REGIONS:
        if code not in regions:
            regions[code] = Region(code=code, name=name)
            db.session.add(regions[code])
    existing = set(db.session.scalars(sa.select(Location.code)))
    for code, name, region, address, phone, tz, _ in LOCATIONS:
        if code not in existing:
            db.session.add(Location(code=code, name=name, region=regions[region],
                                    address=address, phone=phone, timezone=tz))
    db.session.commit()
    emails = set(db.session.scalars(sa.select(User.email)))
    for email, role, region_codes, location_codes, name in USERS:
        if email not in emails:
            create_user(email, role, DEMO_PASSWORD, region_codes, location_codes, name)


def _answer(item, rng, quality):
    kind = item["type"]
    good = rng.random() < quality
    if item.get("na_allowed") and rng.random() < 0.15:
        return NA
    if kind == "yes_no":
        bad_is_yes = item.get("bad_answer") == "yes"
        return (not bad_is_yes) if good else bad_is_yes
    if kind == "rating":
        return rng.choice([4, 5, 5]) if good else rng.choice([1, 2, 3])
    if kind in ("count", "seconds"):
        if "bands" not in item:
            return rng.randint(60, 300)
        limits = [b["max"] for b in item["bands"] if "max" in b]
        return rng.randint(0, int(limits[0])) if good else rng.randint(int(limits[0]) + 1,
                                                                       int(limits[-1]) + 3)
    if kind == "choice":
        return rng.choice(item["options"])["value"]
    return rng.choice(FIRST_NOTICED)


def seed_audits(count, until, seed=7):
    """`count` audits spread over the 90 days before `until`; the same arguments give the
    same audits, and audits already stored are left alone."""
    rng = random.Random(seed)
    locations = db.session.scalars(sa.select(Location).order_by(Location.code)).all()
    managers = {loc.id: next(u for u in db.session.scalars(sa.select(User).order_by(User.id))
                             if loc in u.locations) for loc in locations}
    quality = {code: q for code, *_, q in LOCATIONS}
    checklists = [current_checklist("five_second_walk_in"), current_checklist("call_your_own_number")]
    store_versions({c.id: c for c in checklists})
    end = datetime.combine(until, time(20), tzinfo=timezone.utc)
    submissions = []
    for n in range(count):
        location = locations[n % len(locations)]
        checklist = checklists[rng.random() < 0.4]
        started = end - timedelta(days=rng.uniform(0, 90))
        answers, applicable = {}, {}
        for _, item in iter_items(checklist.definition):
            values = {k: a["value"] for k, a in answers.items()}
            applicable[item["id"]] = applies(item, values, applicable)
            if applicable[item["id"]]:
                answers[item["id"]] = {"value": _answer(item, rng, quality.get(location.code, 0.85))}
        submissions.append((location, checklist, {
            "id": uuid.UUID(int=rng.getrandbits(128), version=4),
            "location_id": location.id, "checklist_id": checklist.id,
            "started_at": started, "submitted_at": started + timedelta(seconds=rng.randint(40, 300)),
            "answers": answers, "notes": "",
        }))
    # In the order they happened, so that repeated failures link and passes propose verification.
    submissions.sort(key=lambda s: s[2]["submitted_at"])
    made = 0
    for n, (location, checklist, data) in enumerate(submissions):
        audit = new_audit(managers[location.id], data, checklist, location.timezone)
        stored = insert_audit(audit, managers[location.id])
        if stored is not None:
            follow_up_audit(audit, checklist, stored.actions_pending)
            made += 1
        if n % 500 == 499:
            db.session.commit()
    db.session.commit()
    if made:
        _work_on_old_actions(end - timedelta(days=10), rng)
    return made


def _work_on_old_actions(before, rng):
    """Managers close most actions opened before `before` (those needing no photo) and
    regional managers verify most of what was closed; the rest stays open or overdue."""
    regionals = {r.id: u for u in db.session.scalars(sa.select(User).where(User.role == "regional"))
                 for r in u.regions}
    old = db.session.scalars(sa.select(CorrectiveAction).where(
        CorrectiveAction.opened_at < before, CorrectiveAction.status == "open",
        CorrectiveAction.photo_required.is_(False)).order_by(CorrectiveAction.id)).all()
    for action in old:
        if rng.random() < 0.2:
            continue
        owner, regional = action.owner, regionals[action.location.region_id]
        done = change_action(owner, action.id, action.version, status="done",
                             note=rng.choice(CLOSING_NOTES))
        if rng.random() < 0.7:
            change_action(regional, action.id, done.version, status="verified",
                          note="Comprobado en la visita.")
