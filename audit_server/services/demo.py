"""The demo organisation: the named regions, locations and logins of `make run`, and as
many generated ones as asked for (its history of audits is demo_history.py's)."""
import random
from datetime import datetime, time, timezone

import sqlalchemy as sa

from ..extensions import db
from ..models import Location, Region, User
from ..models.users import user_locations, user_regions
from .accounts import create_user, hash_password

DEMO_PASSWORD = "momento-demo"  # the demo logins' published password  # nosec B105
REGIONS = [("NORTE", "Región Norte"), ("SUR", "Región Sur")]
LOCATIONS = [
    # code, name, region, address, phone, timezone
    ("MAD-01", "Madrid Centro", "NORTE", "Calle Mayor 12, Madrid", "+34 910 000 101", "Europe/Madrid"),
    ("MAD-02", "Madrid Chamberí", "NORTE", "Calle de Fuencarral 140, Madrid", "+34 910 000 102", "Europe/Madrid"),
    ("BIL-01", "Bilbao Abando", "NORTE", "Gran Vía 25, Bilbao", "+34 944 000 103", "Europe/Madrid"),
    ("SEV-01", "Sevilla Triana", "SUR", "Calle San Jacinto 30, Sevilla", "+34 954 000 104", "Europe/Madrid"),
    ("MAL-01", "Málaga Centro", "SUR", "Calle Larios 8, Málaga", "+34 952 000 105", "Europe/Madrid"),
    ("LPA-01", "Las Palmas Triana", "SUR", "Calle Triana 60, Las Palmas", "+34 928 000 106", "Atlantic/Canary"),
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
    for code, name, region, address, phone, tz in LOCATIONS:
        if code not in existing:
            db.session.add(Location(code=code, name=name, region=regions[region],
                                    address=address, phone=phone, timezone=tz))
    db.session.commit()
    emails = set(db.session.scalars(sa.select(User.email)))
    for email, role, region_codes, location_codes, name in USERS:
        if email not in emails:
            create_user(email, role, DEMO_PASSWORD, region_codes, location_codes, name)


# The generated organisation: areas (a name, a clock, a phone prefix, cities), and the
# words its names are made of. Region i is in area i (modulo), its locations in its cities.
AREAS = [
    ("Cantábrico", "Europe/Madrid", "+34", ["Santander", "Gijón", "Oviedo", "San Sebastián", "Logroño"]),
    ("Canarias", "Atlantic/Canary", "+34", ["Santa Cruz de Tenerife", "La Laguna", "Arrecife", "Telde"]),
    ("México", "America/Mexico_City", "+52", ["Ciudad de México", "Puebla", "Querétaro", "Mérida"]),
    ("Colombia", "America/Bogota", "+57", ["Bogotá", "Medellín", "Cali", "Bucaramanga"]),
    ("Portugal", "Europe/Lisbon", "+351", ["Lisboa", "Porto", "Braga", "Coimbra", "Faro"]),
    ("Levante", "Europe/Madrid", "+34", ["València", "Alicante", "Castellón", "Murcia", "Elche"]),
    ("Perú", "America/Lima", "+51", ["Lima", "Arequipa", "Cusco", "Trujillo"]),
    ("Andalucía", "Europe/Madrid", "+34", ["Córdoba", "Granada", "Almería", "Cádiz", "Jaén"]),
    ("Castilla", "Europe/Madrid", "+34", ["Valladolid", "León", "Salamanca", "Ávila", "Cáceres"]),
    ("Catalunya", "Europe/Madrid", "+34", ["Barcelona", "Girona", "Lleida", "Tarragona", "Sabadell"]),
]
QUARTERS = ["Centro", "Estación", "Plaza Mayor", "Puerto", "Catedral", "Mercado", "Universidad",
            "Río", "Alameda", "Ensanche", "Castillo", "Peñón", "Señorío", "Jardín Botánico"]
STREETS = ["Calle Mayor", "Avenida de la Constitución", "Calle del Carmen", "Paseo de Gràcia",
           "Rua Augusta", "Avenida Juárez", "Carrera Séptima", "Jirón de la Unión", "Calle Real"]
GIVEN = ["Lucía", "Sofía", "Martín", "Hugo", "Inés", "Álvaro", "Núria", "João", "Ximena",
         "Andrés", "Begoña", "Íñigo", "Maité", "Raúl", "Conceição", "Guadalupe"]
FAMILY = ["García", "Fernández", "Martínez", "López", "Sánchez", "Pérez", "Gómez", "Muñoz",
          "Álvarez", "Jiménez", "Peña", "Ibáñez", "Gonçalves", "Hernández", "Castaño", "Oñate"]
MAX_LOCATIONS_PER_MANAGER = 3


def seed_generated_organisation(region_count, location_count, seed, created_at):
    """Add `region_count` generated regions with `location_count` locations between them,
    a regional manager per region and a manager per location or small group of
    locations (password DEMO_PASSWORD, hashed once for all). Written in bulk; regions and
    locations already there (by code) are left alone, so running it again adds nothing."""
    if not region_count:
        return
    width = len(str(region_count))
    rng = random.Random(f"{seed}:organisation")  # seeded demo data, no secret  # nosec B311
    existing = set(db.session.scalars(sa.select(Region.code)))
    regions = []
    for i in range(region_count):
        area, zone, prefix, cities = AREAS[i % len(AREAS)]
        suffix = f" {i // len(AREAS) + 1}" if region_count > len(AREAS) else ""
        regions.append({"code": f"G{i + 1:0{width}d}", "name": f"Región {area}{suffix}",
                        "zone": zone, "prefix": prefix, "cities": cities})
    new = [r for r in regions if r["code"] not in existing]
    if not new:
        return
    connection = db.session.connection()
    connection.execute(Region.__table__.insert(), [{"code": r["code"], "name": r["name"]} for r in new])
    region_ids = dict(db.session.execute(sa.select(Region.code, Region.id)).all())
    locations, users, manages = [], [], []
    per_region = [location_count // region_count + (i < location_count % region_count)
                  for i in range(region_count)]
    password = hash_password(DEMO_PASSWORD)
    for region, count in zip(regions, per_region):
        if region["code"] in existing:
            continue
        users.append(_person(rng, f"regional.{region['code'].lower()}", "regional", region["name"],
                             password, created_at))
        manages.append((users[-1]["email"], "region", region["code"]))
        group = []
        for n in range(1, count + 1):
            city = rng.choice(region["cities"])
            code = f"{region['code']}-{n:04d}"
            locations.append({
                "code": code, "name": f"{city} {rng.choice(QUARTERS)} {n}",
                "region_id": region_ids[region["code"]],
                "address": f"{rng.choice(STREETS)} {rng.randint(1, 250)}, {city}",
                "phone": f"{region['prefix']} {rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                "timezone": region["zone"]})
            if not group:
                group_size = rng.randint(1, MAX_LOCATIONS_PER_MANAGER)
                users.append(_person(rng, f"manager.{code.lower()}", "manager", city, password,
                                     created_at))
            group.append(code)
            manages.append((users[-1]["email"], "location", code))
            if len(group) == group_size:
                group = []
    connection.execute(Location.__table__.insert(), locations)
    connection.execute(User.__table__.insert(), users)
    location_ids = dict(db.session.execute(sa.select(Location.code, Location.id)).all())
    user_ids = dict(db.session.execute(sa.select(User.email, User.id)).all())
    region_rows = [{"user_id": user_ids[e], "region_id": region_ids[c]}
                   for e, kind, c in manages if kind == "region"]
    location_rows = [{"user_id": user_ids[e], "location_id": location_ids[c]}
                     for e, kind, c in manages if kind == "location"]
    connection.execute(user_regions.insert(), region_rows)
    connection.execute(user_locations.insert(), location_rows)
    db.session.commit()


def _person(rng, login, role, where, password, created_at):
    name = f"{rng.choice(GIVEN)} {rng.choice(FAMILY)} ({where})"
    return {"email": f"{login}@momento.example", "name": name, "password_hash": password,
            "role": role, "locale": None, "active": True, "created_at": created_at}


def history_start(until):
    """When the generated people joined: the first of the month three years before `until`."""
    return datetime.combine(until.replace(year=until.year - 3, day=1), time(), tzinfo=timezone.utc)
