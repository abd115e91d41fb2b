"""The pages selectors answer: by offset (the API) or by page number (the dashboard)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass
class Page:
    """`limit` items from `offset`, and how many there are in all."""

    items: list
    total: int
    limit: int
    offset: int


@dataclass
class NumberedPage:
    """Page `number` of `pages`, `size` items a page; `first`/`last` count from 1 (0 when empty)."""

    items: list
    total: int
    number: int
    pages: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)


def offset_page(rows: QuerySet, *, limit: int, offset: int) -> Page:
    total = rows.count()
    items = list(rows[offset : offset + limit]) if offset < total else []
    return Page(items=items, total=total, limit=limit, offset=offset)


def numbered_page(rows: QuerySet, *, number: int, size: int) -> NumberedPage:
    """The page asked for, moved into 1..pages: a number past the end shows the last page."""
    total = rows.count()
    pages = max(1, math.ceil(total / size))
    number = min(max(number, 1), pages)
    offset = (number - 1) * size
    items = list(rows[offset : offset + size]) if total else []
    return NumberedPage(items=items, total=total, number=number, pages=pages, size=size)
