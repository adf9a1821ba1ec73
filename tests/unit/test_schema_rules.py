"""The rules a field gets by being bound to one of the API's schema bases (schemas/base.py)."""
import pytest
from marshmallow import ValidationError, fields, validate

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
