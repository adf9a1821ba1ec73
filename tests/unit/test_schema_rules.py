"""The rules a field gets by being bound to one of the API's schema bases (schemas/base.py)."""
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from marshmallow import ValidationError, fields, validate

from audit_server.schemas.audits import AuditSchema, AuditSubmissionSchema, plainly_valid
from audit_server.schemas.base import Derived, Output, Schema, TextArgs


class Note(Schema):
    text = fields.String()
    short = fields.String(validate=validate.Length(max=5))
    count = fields.Integer()
    at = fields.AwareDateTime()
    tags = fields.List(fields.String())
    done = fields.Boolean()


class NoteQuery(TextArgs):
    count = fields.Integer()
    done = fields.Boolean()


@pytest.mark.parametrize("data, field", [
    ({"text": "a\x00b"}, "text"), ({"text": "caf\udce9"}, "text"), ({"text": "x" * 2001}, "text"),
    ({"short": "123456"}, "short"), ({"count": 2**31}, "count"), ({"count": -(2**31) - 1}, "count"),
    ({"count": 1.5}, "count"), ({"count": "5"}, "count"), ({"count": True}, "count"),
    ({"at": "0001-01-01T00:00:00+00:00"}, "at"), ({"at": "2100-01-01T00:00:00Z"}, "at"),
    ({"tags": ["a"] * 101}, "tags"), ({"tags": ["ok", "a\x00"]}, "tags"),
    ({"done": 1}, "done"), ({"done": "true"}, "done"),
])
def test_what_a_json_body_may_not_carry(data, field):
    with pytest.raises(ValidationError) as refused:
        Note().load(data)
    assert field in refused.value.messages


def test_what_it_may():
    data = {"text": "Suelo mojado 🚧 — «cuidado»\t", "count": 2**31 - 1, "tags": ["a"] * 100,
            "at": "2099-12-31T23:59:59-12:00", "done": False}
    assert Note().load(data)["count"] == 2**31 - 1


def test_text_in_a_query_gives_numbers_and_booleans():
    assert NoteQuery().load({"count": "12", "done": "true"}) == {"count": 12, "done": True}
    for data in ({"count": "2147483648"}, {"done": "1"}, {"done": "yes"}):
        with pytest.raises(ValidationError):
            NoteQuery().load(data)


def test_binding_again_adds_no_rule_twice():
    """Fields are copied shallowly for each schema: the rules must not pile up on the class."""
    counts = [len(Note().fields["text"].validators) for _ in range(3)]
    assert counts == [2, 2, 2]
    assert len(Note._declared_fields["text"].validators) == 0


class Card(Output):
    title = fields.String()
    late = Derived(fields.Boolean(), of=lambda card: card["due"] < 3)


def test_outputs_are_all_required_and_derived_fields_typed():
    schema = Card()
    assert all(field.required for field in schema.fields.values())
    assert schema.dump({"title": "Mop", "due": 1}) == {"title": "Mop", "late": True}


# --- the submission's answers: a one-pass check for what the fields accept as it is ---

JSON_SCALARS = st.one_of(
    st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.floats(allow_nan=True),
    st.text(max_size=30), st.text(min_size=995, max_size=1005),
    st.sampled_from(["na", "", "\x00", "\ud800", "x" * 2000, "x" * 2001]), st.none())
# Mostly well-formed answers, each with a chance of one thing wrong.
ANSWER = st.fixed_dictionaries({"value": JSON_SCALARS}, optional={"comment": JSON_SCALARS}) | (
    st.dictionaries(st.sampled_from(["value", "comment", "other"]),
                    JSON_SCALARS | st.lists(JSON_SCALARS, max_size=2), max_size=3))
VALUE = st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text()
ANSWERS = st.dictionaries(st.text(min_size=1, max_size=64), st.fixed_dictionaries(
    {"value": VALUE}, optional={"comment": st.text(max_size=1000)}), max_size=16) | st.dictionaries(
    st.text(max_size=70) | st.sampled_from(["", "smile", "a\x00"]), ANSWER | JSON_SCALARS, max_size=5)


def loaded(field, answers, load):
    try:
        return load(answers)
    except ValidationError:
        return "refused"


@settings(max_examples=400, deadline=None)
@given(ANSWERS | JSON_SCALARS)
@example({"smile": {"value": True}, "notes": {"value": "Día ☔", "comment": "x" * 1000},
          "rings": {"value": 4.5, "comment": ""}})
def test_answers_taken_as_they_are_are_what_the_fields_accept(answers):
    """plainly_valid lets through only what the fields alone accept, unchanged; the
    field then answers exactly as the fields alone would."""
    field = AuditSubmissionSchema().fields["answers"]
    by_the_fields = loaded(field, answers, lambda a: fields.Dict._deserialize(field, a, "answers", {}))
    if plainly_valid(answers):
        assert by_the_fields == answers
    assert loaded(field, answers, field.deserialize) == by_the_fields


def test_answers_are_written_as_their_documented_field_writes_them():
    """AuditSchema writes an audit's answers as they are (as_is): exactly what its
    documented field would make of them."""
    answers = {"smile": {"value": True, "comment": "", "applies": True, "points": 1.0,
                         "max_points": 1.0, "failed": False, "photo_missing": False},
               "rings": {"value": 4.5, "comment": "¡Rápido! 🙂", "applies": True, "points": None,
                         "max_points": None, "failed": False, "photo_missing": False}}
    field = AuditSchema().fields["answers"]
    assert field.as_is
    assert field.inner._serialize(answers, "answers", None) == field._serialize(answers, "answers", None)
