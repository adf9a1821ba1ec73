"""A client generated from the served document by openapi-python-client builds, and
against a live server (gunicorn) signs in, submits an audit with a phone-size photo and
reads back typed answers, score and actions, and a 422's field errors."""
import importlib
import io
import subprocess
import sys
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import requests

from tests.helpers import PASSWORD, WALK_IN, best_walk_in
from tests.photo_samples import phone_jpeg

GENERATOR = Path(sys.executable).with_name("openapi-python-client")


@pytest.fixture(scope="module")
def momento_client(gunicorn_server, tmp_path_factory):
    """The package openapi-python-client generates from the document the server serves."""
    folder = tmp_path_factory.mktemp("generated")
    document = requests.get(f"{gunicorn_server}/api/v1/openapi.json", timeout=30)
    assert document.status_code == 200
    (folder / "openapi.json").write_bytes(document.content)
    # The generator knows binary bodies as application/octet-stream: the XLSX exports are that.
    (folder / "config.yml").write_text(
        "post_hooks: []\npackage_name_override: momento_client\ncontent_type_overrides:\n"
        "  application/vnd.openxmlformats-officedocument.spreadsheetml.sheet: application/octet-stream\n")
    run = subprocess.run(
        [GENERATOR, "generate", "--path", folder / "openapi.json", "--config", folder / "config.yml",
         "--meta", "none", "--output-path", folder / "momento_client"],
        capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Warning" not in run.stdout + run.stderr, run.stdout + run.stderr  # nothing left out
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module("momento_client")
    finally:
        sys.path.remove(str(folder))
        for name in [n for n in sys.modules if n == "momento_client" or n.startswith("momento_client.")]:
            del sys.modules[name]


def test_a_generated_client_submits_an_audit_with_a_photo(momento_client, gunicorn_server, organisation):
    from momento_client import AuthenticatedClient, Client
    from momento_client.api.audit_photos import post_api_v1_audits_audit_id_photos as upload_photo
    from momento_client.api.audits import get_api_v1_audits_audit_id as get_audit
    from momento_client.api.audits import post_api_v1_audits as submit_audit
    from momento_client.api.auth import post_api_v1_auth_token as sign_in
    from momento_client.models import (
        Audit,
        AuditActionStatus,
        AuditPhotoUpload,
        AuditSubmission,
        AuditSubmissionAnswers,
        Error,
        Photo,
        Token,
        TokenRequest,
    )
    from momento_client.types import File

    token = sign_in.sync(client=Client(base_url=gunicorn_server), body=TokenRequest(
        email=organisation.emails["manager"], password=PASSWORD))
    assert isinstance(token, Token) and token.expires_at > datetime.now(timezone.utc)
    api = AuthenticatedClient(base_url=gunicorn_server, token=token.token, timeout=60)

    answers = best_walk_in() | {"floor_clean": {"value": False, "comment": "Charco junto a la puerta 💧"}}
    started = datetime.now(timezone.utc) - timedelta(minutes=4)
    submission = AuditSubmission(
        id=uuid.uuid4(), location_id=organisation.locations["N1"], checklist_id=WALK_IN,
        started_at=started, submitted_at=started + timedelta(minutes=3),
        answers=AuditSubmissionAnswers.from_dict(answers), notes="Mañana de lluvia")
    audit = submit_audit.sync(client=api, body=submission)
    assert isinstance(audit, Audit), audit
    assert audit.photos_missing == ["floor_clean"]

    jpeg = phone_jpeg()
    photo = upload_photo.sync(audit_id=audit.id, client=api, body=AuditPhotoUpload(
        photo=File(payload=io.BytesIO(jpeg), file_name="floor.jpg", mime_type="image/jpeg"),
        id=uuid.uuid4(), item_id="floor_clean", caption="El charco"))
    assert isinstance(photo, Photo), photo
    assert (photo.width, photo.height, photo.bytes_, photo.item_id) == (3024, 4032, len(jpeg), "floor_clean")

    stored = get_audit.sync(audit_id=audit.id, client=api)
    assert isinstance(stored, Audit)
    floor = stored.answers["floor_clean"]
    assert (floor.value, floor.comment, floor.failed, floor.photo_missing) == (
        False, "Charco junto a la puerta 💧", True, False)
    assert stored.answers["overall_impression"].value == 5
    assert stored.answers["first_noticed"].value == "A tidy shop and a smile"
    assert 0 < stored.score.percent < 100 and stored.score.failed_items == ["floor_clean"]
    assert [(a.item_id, a.status) for a in stored.actions] == [("floor_clean", AuditActionStatus.OPEN)]
    assert [p.id for p in stored.photos] == [photo.id]

    refused = AuditSubmission.from_dict(submission.to_dict() | {
        "id": str(uuid.uuid4()), "answers": answers | {"overall_impression": {"value": 9}}})
    error = submit_audit.sync(client=api, body=refused)
    assert isinstance(error, Error), error
    assert error.error.code == "validation_error"
    assert list(error.error.fields.additional_properties) == ["answers.overall_impression"]
    assert error.error.fields["answers.overall_impression"] == ["Must be a whole number from 1 to 5."]
