"""Shapes shared by every resource: pagination."""
from functools import cache

from flask import current_app
from marshmallow import Schema, fields, validate


class PageArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1))

    def per_page_or_default(self, args):
        config = current_app.config
        return min(args.get("per_page") or config["PER_PAGE_DEFAULT"], config["PER_PAGE_MAX"])


@cache
def page_of(item_schema):
    """The paginated envelope {items, page, per_page, total} for an item schema."""
    return Schema.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(),
            "per_page": fields.Integer(),
            "total": fields.Integer(),
        },
        name=item_schema.__name__.removesuffix("Schema") + "Page",
    )
