"""The app's JSON, read and written with orjson.

Faster than the standard library's, and stricter where it matters: a body with
text that is not Unicode (a lone surrogate such as "\\ud800", which json.loads lets
through and the database then refuses) or with NaN or Infinity is not valid JSON,
so the API answers 400 instead of failing later.
"""
import orjson
from flask.json.provider import DefaultJSONProvider


class JSONProvider(DefaultJSONProvider):
    """Flask's JSON provider on orjson. Dates and times still go through Flask's
    default (HTTP dates); what Momento sends are strings its schemas made."""

    def loads(self, s, **kwargs):
        return orjson.loads(s)

    def dumps(self, obj, **kwargs):
        option = orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_NON_STR_KEYS
        if kwargs.get("sort_keys", self.sort_keys):
            option |= orjson.OPT_SORT_KEYS
        if kwargs.get("indent"):
            option |= orjson.OPT_INDENT_2
        return orjson.dumps(obj, default=kwargs.get("default", self.default), option=option).decode()


def dumps_document(obj):
    """A JSON column's value as text (the engine's json_serializer)."""
    return orjson.dumps(obj).decode()
