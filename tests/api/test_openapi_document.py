"""The served OpenAPI document: valid OpenAPI 3, and a description of the server that a
client (or a fuzzer) can rely on. schemathesis (test_api_contract.py) checks the server
against it; these tests check that it says enough, so that a new endpoint cannot slip."""
import re

import pytest
from openapi_spec_validator import validate

from audit_server.api import CONVERTERS
from audit_server.extensions import rest_api
from tests.helpers import document_operations, document_schemas

FORMATTED = {"uuid", "date-time", "date", "binary"}
ERROR = {"$ref": "#/components/schemas/Error"}


@pytest.fixture
def document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


def test_the_served_document_is_valid_openapi_3(document):
    validate(document)
    assert document["openapi"].startswith("3.")


def test_every_field_is_typed_and_every_text_and_integer_bounded(document):
    """What schemas/base.py gives every schema, as the document says it: a type for
    every field; a maximum length for text (but formatted and enumerated text) and
    bounds for integers; and what the API reads refuses NUL and dates out of 2000-2099."""
    problems = []
    for where, schema, read in document_schemas(document):
        kind = schema.get("type")
        if kind is None and not {"anyOf", "oneOf", "allOf"} & set(schema):
            problems.append(f"{where}: no type")
        if kind == "integer" and not {"minimum", "maximum"} <= set(schema):
            problems.append(f"{where}: an integer without bounds")
        if kind == "array" and read and "maxItems" not in schema:
            problems.append(f"{where}: a list without a maximum length")
        if kind != "string" or "enum" in schema:
            continue
        if schema.get("format") not in FORMATTED and "maxLength" not in schema:
            problems.append(f"{where}: text without a maximum length")
        pattern = schema.get("pattern")
        if read and schema.get("format") is None and (pattern is None or re.search(pattern, "x\x00")):
            problems.append(f"{where}: may carry a NUL")
        if read and schema.get("format") in ("date-time", "date") and (
                pattern is None or not re.search(pattern, "2026-11-20")
                or re.search(pattern, "0001-01-01") or re.search(pattern, "9999-12-31")):
            problems.append(f"{where}: a date without the window of plausible ones")
    assert not problems, "\n".join(problems)


def test_every_error_answer_is_in_the_error_shape(document):
    for method, path, operation in document_operations(document):
        for status, response in operation["responses"].items():
            if status != "default" and int(status) < 400:
                continue
            if "$ref" in response:
                response = document["components"]["responses"][response["$ref"].rsplit("/", 1)[-1]]
            assert response["content"]["application/json"]["schema"] == ERROR, (method, path, status)
    detail = document["components"]["schemas"]["ErrorDetail"]
    assert set(detail["required"]) == {"code", "message", "fields"}


def test_every_operation_that_needs_a_token_says_401(document):
    assert document["security"] == [{"bearer": []}]
    for method, path, operation in document_operations(document):
        public = operation.get("security") == []
        assert public == ((method, path) == ("POST", "/api/v1/auth/token")), (method, path)
        assert "401" in operation["responses"], (method, path)


def test_what_the_api_writes_is_always_all_there(document):
    """Every field of a response is required (present, null where it may be)."""
    response_schemas = {where.split(".")[0] for where, schema, read in document_schemas(document)
                        if not read and "properties" in schema}
    schemas = document["components"]["schemas"]
    for name in response_schemas & set(schemas):
        assert set(schemas[name].get("required", [])) == set(schemas[name]["properties"]), name


@pytest.mark.parametrize("path, fields", [
    ("/api/v1/audits/{audit_id}/photos", {"photo", "id", "item_id", "caption"}),
    ("/api/v1/actions/{action_id}/photos", {"photo", "id", "caption"}),
])
def test_a_photo_upload_is_one_multipart_body_with_all_its_fields(document, path, fields):
    operation = document["paths"][path]["post"]
    assert all(p["in"] in ("path", "query") for p in operation.get("parameters", []))
    body = operation["requestBody"]["content"]
    assert list(body) == ["multipart/form-data"]
    schema = document["components"]["schemas"][body["multipart/form-data"]["schema"]["$ref"].split("/")[-1]]
    assert set(schema["properties"]) == fields
    assert {"photo", "id"} <= set(schema["required"])
    assert schema["properties"]["photo"] == {**schema["properties"]["photo"], "type": "string",
                                             "format": "binary"}
    busy = operation["responses"]["503"]
    assert busy["headers"]["Retry-After"]["required"] is True


def test_answers_are_described(document):
    schemas = document["components"]["schemas"]
    answers = schemas["AuditSubmission"]["properties"]["answers"]
    assert answers["additionalProperties"] == {"$ref": "#/components/schemas/Answer"}
    answer = schemas["Answer"]
    assert {t["type"] for t in answer["properties"]["value"]["anyOf"]} == {"boolean", "number", "string"}
    assert answer["properties"]["comment"]["maxLength"] == 1000
    assert answer["required"] == ["value"] and answer["additionalProperties"] is False
    result = schemas["Audit"]["properties"]["answers"]["additionalProperties"]
    assert result == {"$ref": "#/components/schemas/AnswerResult"}


def test_the_example_submission_is_an_audit_the_server_takes(client, organisation, document):
    """A newcomer copies the example of POST /api/v1/audits: it must work (for a location of theirs)."""
    example = document["paths"]["/api/v1/audits"]["post"]["requestBody"]["content"][
        "application/json"]["example"]
    body = example | {"location_id": organisation.locations["N1"]}
    r = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert r.status_code == 201, r.get_json()
    audit = r.get_json()
    assert audit["score"]["failed_items"] == ["floor_clean"]
    assert [a["item_id"] for a in audit["actions"]] == ["floor_clean"]
    again = client.post("/api/v1/audits", json=body, headers=organisation.headers("manager"))
    assert again.status_code == 200


def test_making_apps_registers_the_path_converters_once(make_app):
    """The API object is one for the process; each app made documents the converters of
    its routes from what was registered with it once, not once more per app."""
    registered = list(rest_api._converters)  # flask-smorest keeps no public view of them
    make_app()
    make_app()
    assert rest_api._converters == registered
    assert sorted(c.__name__ for c, _ in registered) == sorted(c.__name__ for c, _ in CONVERTERS.values())
