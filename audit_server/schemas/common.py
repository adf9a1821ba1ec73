"""Shapes shared by every resource: pagination."""
from functools import cache

from flask import current_app
from marshmallow import Schema, fields, post_load, validate


class PageArgs(Schema):
    """?page=&per_page= (default PER_PAGE_DEFAULT, capped at PER_PAGE_MAX)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=1_000_000))
    per_page = fields.Integer(load_default=None, validate=validate.Range(min=1))

    @post_load
    def cap_per_page(self, data, **_kwargs):
        config = current_app.config
        data["per_page"] = min(data["per_page"] or config["PER_PAGE_DEFAULT"], config["PER_PAGE_MAX"])
        return data


def paginated(fetch, args):
    """The envelope of one page: `fetch(page, per_page, **filters)` gives (items, total)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = fetch(page, per_page, **args)
    return {"items": items, "page": page, "per_page": per_page, "total": total}


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
