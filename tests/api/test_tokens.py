"""API tokens listed and revoked (issue 15): GET /api/v1/auth/tokens, DELETE
/api/v1/auth/tokens/<id> (one's own; an admin's: anybody's), DELETE /api/v1/auth/token."""
from audit_server.extensions import db
from audit_server.models import ApiToken
from tests.helpers import PASSWORD

TOKEN = "/api/v1/auth/token"
TOKENS = "/api/v1/auth/tokens"


def sign_in(client, email, **extra):
    answer = client.post(TOKEN, json={"email": email, "password": PASSWORD, **extra},
                         headers={"User-Agent": "momento-phone/1.0"})
    assert answer.status_code == 201, answer.get_json()
    return {"Authorization": "Bearer " + answer.get_json()["token"]}


def test_my_tokens_are_listed_with_their_name_and_last_use(client, organisation):
    phone = sign_in(client, "manager@example.com")
    laptop = sign_in(client, "manager@example.com", name="Portátil de Ana 💻")
    sign_in(client, "south@example.com")
    answer = client.get(TOKENS, headers=laptop)
    assert answer.status_code == 200
    tokens = answer.get_json()
    assert [t["name"] for t in tokens] == ["Portátil de Ana 💻", "momento-phone/1.0"]
    assert tokens[0]["last_used_at"] is not None  # this request used it
    assert set(tokens[0]) == {"id", "name", "created_at", "expires_at", "last_used_at"}
    assert client.get(TOKENS, headers=phone).status_code == 200


def test_last_used_is_written_at_most_once_a_minute(client, organisation):
    bearer = sign_in(client, "manager@example.com")
    client.get(TOKENS, headers=bearer)
    first = db.session.scalar(db.select(ApiToken.last_used_at))
    client.get(TOKENS, headers=bearer)
    db.session.expire_all()
    assert db.session.scalar(db.select(ApiToken.last_used_at)) == first


def test_a_revoked_token_is_refused_at_once(client, organisation):
    phone = sign_in(client, "manager@example.com")
    laptop = sign_in(client, "manager@example.com")
    phone_id = client.get(TOKENS, headers=phone).get_json()[-1]["id"]
    assert client.delete(f"{TOKENS}/{phone_id}", headers=laptop).status_code == 204
    answer = client.get("/api/v1/locations", headers=phone)
    assert answer.status_code == 401
    assert client.get("/api/v1/locations", headers=laptop).status_code == 200
    assert client.delete(f"{TOKENS}/{phone_id}", headers=laptop).status_code == 404  # gone


def test_someone_elses_token_is_not_found_unless_one_is_an_admin(client, organisation):
    mine = sign_in(client, "manager@example.com")
    theirs = sign_in(client, "south@example.com")
    their_id = client.get(TOKENS, headers=theirs).get_json()[0]["id"]
    answer = client.delete(f"{TOKENS}/{their_id}", headers=mine)
    assert answer.status_code == 404 and answer.get_json()["error"]["code"] == "not_found"
    assert client.get("/api/v1/locations", headers=theirs).status_code == 200
    assert client.delete(f"{TOKENS}/999999", headers=mine).status_code == 404
    admin = sign_in(client, "admin@example.com")
    assert client.delete(f"{TOKENS}/{their_id}", headers=admin).status_code == 204
    assert client.get("/api/v1/locations", headers=theirs).status_code == 401


def test_delete_token_signs_an_api_client_out(client, organisation):
    bearer = sign_in(client, "manager@example.com")
    other = sign_in(client, "manager@example.com")
    assert client.delete(TOKEN, headers=bearer).status_code == 204
    assert client.get("/api/v1/locations", headers=bearer).status_code == 401
    assert client.get("/api/v1/locations", headers=other).status_code == 200
    assert client.delete(TOKEN).status_code == 401  # nobody signed in


def test_expired_tokens_are_not_listed(client, organisation):
    bearer = sign_in(client, "manager@example.com")
    sign_in(client, "manager@example.com")
    row = db.session.scalars(db.select(ApiToken).order_by(ApiToken.id.desc())).first()
    row.expires_at = row.created_at
    db.session.commit()
    listed = client.get(TOKENS, headers=bearer).get_json()
    assert len(listed) == 1 and listed[0]["id"] != row.id
