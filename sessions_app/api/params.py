"""Query parameters declared once: each declaration reads its parameter from a request and
states it for /api/schema/, so what an endpoint accepts and what its documentation says are
one thing.

A resource module lists its parameters in a `Query`, in the order they are checked (the order
the answers have always named a bad one in); `Query.parse` gives the values by name, ready for
the selectors, and `Query.parameters` the OpenAPI parameters of the endpoint. The reading
itself is `sessions_app.query`'s, shared with the dashboard.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter

from sessions_app import query
from sessions_app.errors import InvalidInput
from sessions_app.selectors import Keyset, cursor_loads

UNIX_SECONDS = {"type": "integer", "minimum": 0}


@dataclass(frozen=True)
class Param:
    """One query parameter: its schema and description, and `read(params) -> value` (which
    raises InvalidInput naming it). `comma_list`: `a,b` in one value (style form, not exploded)."""

    name: str
    schema: dict
    description: str
    read: Callable[[Mapping[str, Any]], Any]
    required: bool = False
    comma_list: bool = False

    def parameters(self) -> list[OpenApiParameter]:
        extra = {"style": "form", "explode": False} if self.comma_list else {}
        return [
            OpenApiParameter(
                self.name, self.schema, required=self.required, description=self.description, **extra
            )
        ]

    def values(self, params: Mapping[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        return {self.name: self.read(params)}


def text(name: str, description: str, *, enum: Sequence[str] | None = None, required: bool = False) -> Param:
    """A string passed on as it is (None when absent); an `enum` is what it is documented to take."""
    schema = {"type": "string", **({"enum": list(enum)} if enum else {})}
    return Param(name, schema, description, lambda params: params.get(name) or None, required=required)


def choices(name: str, allowed: Sequence[str], description: str) -> Param:
    """`a,b`, each one of `allowed`: a tuple, empty when absent."""
    schema = {"type": "array", "items": {"type": "string", "enum": list(allowed)}}
    return Param(
        name, schema, description, lambda params: query.comma_list(params, name, allowed), comma_list=True
    )


def names(name: str, description: str) -> Param:
    """`a,b` of any names: a tuple, empty when absent."""
    schema = {"type": "array", "items": {"type": "string"}}
    return Param(name, schema, description, lambda params: query.names(params, name), comma_list=True)


def unix(name: str, description: str, *, required: bool = False) -> Param:
    return Param(
        name,
        UNIX_SECONDS,
        description,
        lambda params: query.unix_param(params, name, required=required),
        required=required,
    )


def whole(name: str, description: str, *, minimum: int) -> Param:
    return Param(
        name,
        {"type": "integer", "minimum": minimum},
        description,
        lambda params: query.whole_param(params, name, minimum=minimum),
    )


def created_time(name: str, description: str) -> Param:
    return Param(name, {"type": "string"}, description, lambda params: query.time_param(params, name))


@dataclass(frozen=True)
class Sort:
    """`sort=field` or `field:asc|desc` from a whitelist -> `sort` and `descending`."""

    allowed: set[str]
    default: str
    description: str

    def parameters(self) -> list[OpenApiParameter]:
        enum = [f"{f}{direction}" for f in sorted(self.allowed) for direction in ("", ":asc", ":desc")]
        return [OpenApiParameter("sort", str, enum=enum, description=self.description)]

    def values(self, params: Mapping[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        sort, descending = query.parse_sort(params.get("sort"), self.allowed, self.default)
        return {"sort": sort, "descending": descending}


LIMIT = OpenApiParameter(
    "limit", {"type": "integer", "minimum": 0}, description="Page size: default 50 (also for 0), at most 200."
)
OFFSET = OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Items to skip.")


@dataclass(frozen=True)
class Paging:
    """`limit` (and `offset`, unless the list pages by cursor alone), checked together."""

    offset: bool = True

    def parameters(self) -> list[OpenApiParameter]:
        return [LIMIT, OFFSET] if self.offset else [LIMIT]

    def values(self, params: Mapping[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        limit, offset = query.parse_paging(params)
        return {"limit": limit, "offset": offset} if self.offset else {"limit": limit}


KEYSET_CURSOR = (
    "next_cursor of the previous page (keyset: any depth costs what the first page does), "
    "with the same sort; not with an offset past 0. Another list's or sort's cursor is a 400."
)


@dataclass(frozen=True)
class Cursor:
    """`cursor`: the key a previous page's next_cursor names, for this list and its sort (the
    `sort` and `descending` read before it, or `sort` fixed), as `after`. Beside an offset past
    0 it is a 400 unless `alone` (a list paged by cursor only)."""

    list_name: str
    keyset: Callable[..., Keyset] | Keyset
    sort: str | None = None
    alone: bool = False
    description: str = KEYSET_CURSOR

    def parameters(self) -> list[OpenApiParameter]:
        return [OpenApiParameter("cursor", str, description=self.description)]

    def values(self, params: Mapping[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        raw = params.get("cursor") if self.alone else query.cursor_or_offset(params, parsed["offset"])
        if self.sort is not None:
            sort, keyset = self.sort, self.keyset
        else:
            sort = parsed["sort"]
            keyset = self.keyset(sort=sort, descending=parsed["descending"])
        return {"after": cursor_loads(raw, list_name=self.list_name, sort=sort, keyset=keyset)}


class Query:
    """An endpoint's query parameters, in the order they are checked.

    `missing`: the message for the required parameters that are absent, all named at once
    before anything else is read. `all_errors`: every bad parameter named in one 400 rather than
    the first (a chart's window).
    """

    def __init__(self, *params, missing: str | None = None, all_errors: bool = False):
        self.params = params
        self.missing = missing
        self.all_errors = all_errors

    @property
    def parameters(self) -> list[OpenApiParameter]:
        return [parameter for param in self.params for parameter in param.parameters()]

    def parse(self, params: Mapping[str, Any]) -> dict[str, Any]:
        if self.missing:
            absent = [p.name for p in self.params if getattr(p, "required", False) and not params.get(p.name)]
            if absent:
                raise InvalidInput.from_errors({name: [self.missing] for name in absent})
        parsed: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for param in self.params:
            try:
                parsed.update(param.values(params, parsed))
            except InvalidInput as error:
                if not self.all_errors:
                    raise
                errors.update(error.errors)
        if errors:
            raise InvalidInput.from_errors(errors)
        return parsed
