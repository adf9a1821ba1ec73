"""Password hashing and rules (issue 15): argon2id for new hashes, older werkzeug hashes
still verify and are upgraded at the next sign-in; short, long, NUL and common ones refused."""
import pytest
from werkzeug.security import generate_password_hash

from audit_server.extensions import db
from audit_server.models import User
from audit_server.services import accounts
from audit_server.services.errors import InvalidInput
from tests.helpers import PASSWORD

ARGON2_CHEAP = {"PASSWORD_HASH_METHOD": "argon2id", "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 1024, "ARGON2_PARALLELISM": 1}


def test_new_hashes_are_argon2id_and_verify(make_app):
    app = make_app(**ARGON2_CHEAP)
    with app.app_context():
        stored = accounts.hash_password("un árbol 🌳 verde")
        assert stored.startswith("$argon2id$")
        assert accounts.verify_password(stored, "un árbol 🌳 verde")
        assert not accounts.verify_password(stored, "un árbol 🌳 verd")
        assert not accounts.verify_password("$argon2id$junk", "x")
        assert not accounts.verify_password("not a hash", "x")
        assert not accounts.needs_rehash(stored)


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256:1000"])
def test_an_older_hash_is_upgraded_to_argon2id_at_sign_in(make_app, organisation, web_on, method):
    manager = db.session.get(User, organisation.ids["manager"])
    manager.password_hash = generate_password_hash(PASSWORD, method=method)
    db.session.commit()
    app = make_app(**ARGON2_CHEAP)
    web = web_on(app)
    assert web.login("manager@example.com", "wrong password").status_code == 401
    db.session.expire_all()
    assert db.session.get(User, organisation.ids["manager"]).password_hash.startswith(method.split(":")[0])
    assert web.login("manager@example.com").status_code == 302
    db.session.expire_all()
    upgraded = db.session.get(User, organisation.ids["manager"]).password_hash
    assert upgraded.startswith("$argon2id$")
    web.post("/logout")
    assert web.login("manager@example.com").status_code == 302  # and the new hash works
    db.session.expire_all()
    assert db.session.get(User, organisation.ids["manager"]).password_hash == upgraded


def test_the_tests_cheap_scheme_is_kept_and_not_upgraded(app, organisation, web):
    before = db.session.get(User, organisation.ids["manager"]).password_hash
    assert before.startswith("pbkdf2:sha256:1000")
    web.login("manager@example.com")
    db.session.expire_all()
    assert db.session.get(User, organisation.ids["manager"]).password_hash == before


@pytest.mark.parametrize("password, problem", [
    ("", accounts.TOO_SHORT),
    ("corto", accounts.TOO_SHORT),
    ("x" * 256 + "Ab1", accounts.TOO_LONG),
    ("buena\x00contraseña larga", accounts.HAS_NUL),
    ("password123", accounts.TOO_COMMON),
    ("Password2024!", accounts.TOO_COMMON),
    ("qwertyuiop", accounts.TOO_COMMON),
    ("1234567890", accounts.TOO_COMMON),
    ("iloveyou123", accounts.TOO_COMMON),
    ("momento2026", accounts.TOO_COMMON),
    ("!!MOMENTO!!", accounts.TOO_COMMON),
    ("aaaaaaaaaaaa", accounts.TOO_COMMON),
    ("ana.garcia1234", accounts.LIKE_EMAIL),
    ("Ana.Garcia!!", accounts.LIKE_EMAIL),
])
def test_weak_passwords_are_refused_with_a_clear_message(app, password, problem):
    with app.app_context():
        assert accounts.password_problems(password, "ana.garcia@example.com") == [problem]


@pytest.mark.parametrize("password", [PASSWORD, "un árbol 🌳 verde", "Tres tristes tigres 42"])
def test_good_passwords_are_taken(app, password):
    with app.app_context():
        assert accounts.password_problems(password, "ana.garcia@example.com") == []


def test_the_common_list_is_shipped_and_large(app):
    common = accounts.common_passwords()
    assert len(common) > 5000 and "password123" in common and "qwerty1234" in common


def test_set_password_refuses_and_says_why(app, organisation):
    manager = db.session.get(User, organisation.ids["manager"])
    with pytest.raises(InvalidInput) as refused:
        accounts.set_password(manager, "manager@example.com")
    assert refused.value.fields == {"password": [accounts.LIKE_EMAIL]}
