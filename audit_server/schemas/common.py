"""Shapes shared by every resource: pagination."""
from functools import cache

from flask import current_app
from marshmallow import fields, post_load, validate

from .base import COUNT_RANGE, INT_MAX, Output, TextArgs

MAX_PAGE = 1_000_000


class PageArgs(TextArgs):
    """?page=&per_page= (default PER_PAGE_DEFAULT, capped at PER_PAGE_MAX)."""

    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=MAX_PAGE))
    per_page = fields.Integer(validate=validate.Range(min=1, max=INT_MAX), metadata={
        "description": "Items per page (default 50); more than 200 is taken as 200."})

    @post_load
    def cap_per_page(self, data, **_kwargs):
        config = current_app.config
        data["per_page"] = min(data.get("per_page") or config["PER_PAGE_DEFAULT"],
                               config["PER_PAGE_MAX"])
        return data


def paginated(fetch, args):
    """The envelope of one page: `fetch(page, per_page, **filters)` gives (items, total)."""
    page, per_page = args.pop("page"), args.pop("per_page")
    items, total = fetch(page, per_page, **args)
    return {"items": items, "page": page, "per_page": per_page, "total": total}


@cache
def page_of(item_schema):
    """The paginated envelope {items, page, per_page, total} for an item schema."""
    return Output.from_dict(
        {
            "items": fields.List(fields.Nested(item_schema)),
            "page": fields.Integer(validate=validate.Range(min=1, max=MAX_PAGE)),
            "per_page": fields.Integer(validate=validate.Range(min=1, max=INT_MAX)),
            "total": fields.Integer(validate=COUNT_RANGE),
        },
        name=item_schema.__name__.removesuffix("Schema") + "Page",
    )
