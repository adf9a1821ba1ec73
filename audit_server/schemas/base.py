"""The rules every input obeys and every output states, in one place.

Every schema of the API derives from `Schema` (what it reads), `TextArgs` (what
it reads from a query string or a form) or `Output` (what it writes). When a
field is bound to one of them, it gets the rules nobody has to remember:

- text: at most TEXT_MAX characters unless the field says less, and (read) no NUL
  or lone surrogate, which the databases cannot store (422 naming the field);
- lists (read): at most LIST_MAX items unless the field says less;
- integers: within the database's 32-bit range unless the field says narrower,
  and, in a JSON body, really integers (1.5, "5" and true are refused);
- dates and times (read): a year from 2000 to 2099 as written, far enough from
  any audit to catch a typo, near enough that converting it never overflows;
- booleans: true or false (in a query, as text), nothing that merely looks like one;
- outputs: every field is always written, so the document marks each required.

`document_rules` teaches the OpenAPI document the same rules, so a client and a
fuzzer read them there. An endpoint added later gets all of it by using these
bases; tests/api/test_openapi_document.py fails for a schema that does not.
"""
import math
import re

import marshmallow
from marshmallow import ValidationError, fields, validate

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # integers are 32-bit in the database
ID_RANGE = validate.Range(min=1, max=INT_MAX)
COUNT_RANGE = validate.Range(min=0, max=INT_MAX)
TEXT_MAX = 2000
LIST_MAX = 100
YEARS = (2000, 2099)


def is_number(value):
    """A number as JSON has it: finite, and not true or false (which Python counts as 1 and 0)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class StorableText(validate.Validator):
    """Text both databases can store: no NUL (PostgreSQL refuses it in text and JSON)
    and no lone surrogate (not Unicode: UTF-8 cannot encode it)."""

    error = "Must not contain NUL characters or lone surrogates."
    # JSON text cannot carry a lone surrogate to the API, so the document names NUL only.
    PATTERN = "^[^\\u0000]*$"
    _FORBIDDEN = re.compile("[\x00\ud800-\udfff]")

    def __call__(self, value):
        if not self.allows(value):
            raise ValidationError(self.error)
        return value

    @classmethod
    def allows(cls, text):
        return cls._FORBIDDEN.search(text) is None


class PlausibleDate(validate.Validator):
    """A date or time whose year, as written, is from 2000 to 2099."""

    error = f"Must be a date from {YEARS[0]} to {YEARS[1]}."
    PATTERN = "^20[0-9]{2}-"

    def __call__(self, value):
        if not YEARS[0] <= value.year <= YEARS[1]:
            raise ValidationError(self.error)
        return value


def column_length(*columns):
    """The Length rule of text read from these columns: at most what the longest of them holds."""
    return validate.Length(max=max(column.type.length for column in columns))


def _with(field, validator):
    # Fields are copied shallowly per schema instance: never append to a shared list.
    field.validators = [*field.validators, validator]


def _has_max_length(field):
    return any(isinstance(v, validate.Length) and (v.max is not None or v.equal is not None)
               for v in field.validators)


def _is_choice(field):
    return any(isinstance(v, validate.OneOf) for v in field.validators)


def _has_range(field):
    return any(isinstance(v, validate.Range) and v.min is not None and v.max is not None
               for v in field.validators)


def _inner_fields(field):
    if isinstance(field, fields.List):
        return [field.inner]
    if isinstance(field, fields.Tuple):
        return list(field.tuple_fields)
    if isinstance(field, fields.Mapping):
        return [f for f in (field.key_field, field.value_field) if f is not None]
    if isinstance(field, Derived):
        return [field.inner]
    return []


def apply_rules(field, *, reading, from_text=False):
    """Give a bound field (and the fields inside it) the rules above."""
    for inner in _inner_fields(field):
        apply_rules(inner, reading=reading, from_text=from_text)
    if isinstance(field, fields.List) and reading and not _has_max_length(field):
        _with(field, validate.Length(max=LIST_MAX))
    if isinstance(field, fields.String) and not isinstance(field, fields.UUID):
        if not _has_max_length(field) and not _is_choice(field):
            _with(field, validate.Length(max=TEXT_MAX))
        if reading:
            _with(field, StorableText())
    elif isinstance(field, fields.Integer):
        if not _has_range(field):
            _with(field, validate.Range(min=INT_MIN, max=INT_MAX))
        if reading and not from_text:
            field.strict = True
    elif isinstance(field, (fields.DateTime, fields.Date)) and reading:
        _with(field, PlausibleDate())
    elif isinstance(field, fields.Boolean) and reading:
        if from_text:
            field.truthy, field.falsy = {"true"}, {"false"}
        else:
            field._deserialize = _json_boolean(field)


def _json_boolean(field):
    """The field's deserialization, for JSON: true or false (1 == True in Python's sets)."""

    def deserialize(value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise field.make_error("invalid", input=value)
        return value
    return deserialize


class Schema(marshmallow.Schema):
    """What the API reads from a JSON body."""

    def on_bind_field(self, field_name, field_obj):
        apply_rules(field_obj, reading=True)


class TextArgs(marshmallow.Schema):
    """What the API reads from a query string or a form: text, from which numbers,
    booleans and dates are read."""

    def on_bind_field(self, field_name, field_obj):
        apply_rules(field_obj, reading=True, from_text=True)


class Output(marshmallow.Schema):
    """What the API writes: every field is always there (null where it may be)."""

    def on_bind_field(self, field_name, field_obj):
        field_obj.required = True
        apply_rules(field_obj, reading=False)


class Derived(fields.Field):
    """An output field computed from the whole object by `of`, documented and written
    as its `inner` field (unlike fields.Function, whose type a document cannot know).

        overdue = Derived(fields.Boolean(), of=lambda action: action.is_overdue(utcnow()))

    `as_is=True` says that `of` gives plain JSON already shaped as `inner` writes it
    (e.g. an audit's answers, read from their JSON document): it is written unchanged,
    without running `inner` over every value on the hot path.
    """

    def __init__(self, inner, *, of, as_is=False, **kwargs):
        super().__init__(**kwargs)
        self.inner = inner
        self.of = of
        self.as_is = as_is

    def _bind_to_schema(self, field_name, parent):
        super()._bind_to_schema(field_name, parent)
        self.inner = self.inner.__deepcopy__({})
        self.inner.allow_none = self.allow_none
        self.inner._bind_to_schema(field_name, self)

    def get_value(self, obj, attr, accessor=None, default=marshmallow.missing):
        return self.of(obj)

    def _serialize(self, value, attr, obj, **kwargs):
        if self.as_is:
            return value
        return self.inner._serialize(value, attr, obj, **kwargs)


def document_rules(converter):
    """Teach apispec's field converter the rules: the patterns of text and dates,
    derived fields as their inner field, and a nested object that may be null as
    {"nullable": true, "allOf": [<its schema>]} (what client generators read as
    "this object or null"; apispec's anyOf with any object reads as two types)."""

    def momento_rules2properties(self, field, ret=None, **_kwargs):
        ret = {} if ret is None else ret
        properties = {}
        if isinstance(field, Derived):
            properties.update(self.field2property(field.inner))
        if isinstance(field, fields.Nested) and "anyOf" in ret:
            references = [option for option in ret.pop("anyOf") if "$ref" in option]
            properties.update(nullable=True, allOf=references)
        if "pattern" not in ret and "enum" not in ret:
            for rule in (StorableText, PlausibleDate):
                if any(isinstance(v, rule) for v in field.validators):
                    properties["pattern"] = rule.PATTERN
        return properties

    converter.add_attribute_function(momento_rules2properties)
