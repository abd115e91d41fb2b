"""The pages selectors answer: by offset, by keyset (a cursor), or by page number (the dashboard).

One keyset mechanism for every list (sessions, runs, trades): a page starts after the
(sort value, id) of the previous page's last row, in the order (sort, id) both ascending or
both descending, which each list reads from a (sort, id) index. A deep page costs what the
first does, and rows inserted or deleted between pages neither repeat nor push others out of
the walk.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db.models import DecimalField, Model, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.sql.datastructures import BaseTable

from sessions_app.list_totals import list_total


@dataclass(frozen=True)
class PageKey:
    """Where a page ends: the last row's sort value (None when sorting by id alone, or for a
    NULL) and its primary key."""

    value: Any
    id: Any


@dataclass
class Page:
    """`limit` items from `offset` (None for a keyset page), how many there are in all, and the
    key the next page starts after (None on the last page)."""

    items: list
    total: int
    limit: int
    offset: int | None
    next_key: PageKey | None = None


@dataclass
class KeysetPage:
    """Up to `limit` items, and the key the next page starts after (None on the last page)."""

    items: list
    limit: int
    next_key: PageKey | None


@dataclass(frozen=True)
class Keyset:
    """The order of a keyset-paged list of `model`: `field` (None: the primary key alone), then
    the primary key, both ascending or both descending."""

    model: type[Model]
    field: str | None
    descending: bool

    def reversed(self) -> Keyset:
        return Keyset(model=self.model, field=self.field, descending=not self.descending)

    def order_by(self) -> list[str]:
        sign = "-" if self.descending else ""
        return [f"{sign}pk"] if self.field is None else [f"{sign}{self.field}", f"{sign}pk"]

    def key_of(self, row) -> PageKey:
        return PageKey(value=None if self.field is None else getattr(row, self.field), id=row.pk)

    def after(self, key: PageKey) -> Q:
        """Rows past `key`: `(value, id) > (v, i)` spelled as `value >= v AND (value > v OR
        (value = v AND id > i))` (`<` when descending): a range on the (field, id) index.

        NULLs sort first ascending and last descending, on SQLite as on MariaDB. A decimal's
        boundary is read from the row itself while it exists: SQLite keeps a decimal with the
        digits it was written with, which may be more than the cursor carries, and an equal
        test against the rounded copy would miss the row's ties.
        """
        beyond = "lt" if self.descending else "gt"
        past_id = Q(**{f"pk__{beyond}": key.id})
        if self.field is None:
            return past_id
        field = self.model._meta.get_field(self.field)
        if key.value is None:  # the walk is among the NULLs: first ascending, last descending
            among_nulls = Q(**{f"{self.field}__isnull": True}) & past_id
            return among_nulls if self.descending else among_nulls | Q(**{f"{self.field}__isnull": False})
        boundary: Any = key.value
        if isinstance(field, DecimalField):
            stored = Subquery(self.model._base_manager.filter(pk=key.id).values(self.field)[:1])
            boundary = Coalesce(stored, Value(key.value, output_field=field))
        past = Q(**{f"{self.field}__{beyond}": boundary}) | Q(**{self.field: boundary}) & past_id
        if self.descending and field.null:
            return past | Q(**{f"{self.field}__isnull": True})
        # Implied by `past`, spelled out for the planner: SQLite plans the OR
        # alone as a walk from the start of the index, a cost that grows with the depth; with
        # `value >= v` it starts the walk at the key.
        return Q(**{f"{self.field}__{beyond}e": boundary}) & past


class _IndexedTable(BaseTable):
    """The query's base table read through `index` on MariaDB/MySQL (`FORCE INDEX`); other
    databases are left to their planner."""

    def __init__(self, table_name, alias, index: str):
        super().__init__(table_name, alias)
        self.index = index

    def as_sql(self, compiler, connection):
        sql, params = super().as_sql(compiler, connection)
        if connection.vendor == "mysql":
            sql = f"{sql} FORCE INDEX ({connection.ops.quote_name(self.index)})"
        return sql, params

    def relabeled_clone(self, change_map):
        return self.__class__(self.table_name, change_map.get(self.table_alias, self.table_alias), self.index)


def read_through(rows: QuerySet, index: str) -> QuerySet:
    """`rows` read through `index`, whatever the planner estimates.

    MariaDB plans a keyset page `run_id = ? AND entry_time >= ? AND ...` of a run with a
    million trades as a `ref` on run_id when the range past the key holds about as many rows as
    the run (a page from the middle on): it then reads the run from its first row, up to half
    a million index entries for 50 rows. Told the index, it takes the range from the key.
    """
    rows = rows.all()
    query = rows.query
    alias = query.get_initial_alias()
    table = query.alias_map[alias]
    query.alias_map[alias] = _IndexedTable(table.table_name, table.table_alias, index)
    return rows


def keyset_rows(rows: QuerySet, *, keyset: Keyset, limit: int, after: PageKey | None) -> KeysetPage:
    """Up to `limit` rows in the keyset's order, starting after `after`."""
    if after is not None:
        rows = rows.filter(keyset.after(after))
    found = list(rows.order_by(*keyset.order_by())[: limit + 1])
    items = found[:limit]
    next_key = keyset.key_of(items[-1]) if len(found) > limit else None
    return KeysetPage(items=items, limit=limit, next_key=next_key)


def list_page(
    rows: QuerySet,
    *,
    keyset: Keyset,
    limit: int,
    offset: int = 0,
    after: PageKey | None = None,
    scope: str,
) -> Page:
    """A page by keyset (`after`) or by offset, with the total and the next page's key either way.

    The total of the filtered rows (not of the rows after the key) comes from list_totals:
    counted when small, else cached until a service changes the scope. A first page that is
    not full is its own total.
    """
    if after is not None:
        offset = 0
        page = keyset_rows(rows, keyset=keyset, limit=limit, after=after)
    else:
        found = list(rows.order_by(*keyset.order_by())[offset : offset + limit + 1])
        items = found[:limit]
        next_key = keyset.key_of(items[-1]) if len(found) > limit else None
        page = KeysetPage(items=items, limit=limit, next_key=next_key)
    if after is None and page.next_key is None and (page.items or offset == 0):
        total = offset + len(page.items)
    else:
        total = list_total(rows, scope=scope)
    return Page(
        items=page.items,
        total=total,
        limit=limit,
        offset=None if after is not None else offset,
        next_key=page.next_key,
    )


def offset_page(rows: QuerySet, *, limit: int, offset: int) -> Page:
    total = rows.count()
    items = list(rows[offset : offset + limit]) if offset < total else []
    return Page(items=items, total=total, limit=limit, offset=offset)


@dataclass
class NumberedPage:
    """Page `number` of `pages`, `size` items a page; `first`/`last` count from 1 (0 when empty)."""

    items: list
    total: int
    number: int
    pages: int
    size: int
    # Keys of the last and first rows, for Next and Previous by keyset (None where there is no
    # such page, or when the order has no keyset).
    next_key: PageKey | None = None
    previous_key: PageKey | None = None

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size

    @property
    def first(self) -> int:
        return self.offset + 1 if self.total else 0

    @property
    def last(self) -> int:
        return self.offset + len(self.items)


def numbered_page(rows: QuerySet, *, number: int, size: int) -> NumberedPage:
    """The page asked for, moved into 1..pages: a number past the end shows the last page."""
    total = rows.count()
    pages = max(1, math.ceil(total / size))
    number = min(max(number, 1), pages)
    offset = (number - 1) * size
    items = list(rows[offset : offset + size]) if total else []
    return NumberedPage(items=items, total=total, number=number, pages=pages, size=size)


def numbered_keyset_page(
    rows: QuerySet,
    *,
    keyset: Keyset,
    number: int,
    size: int,
    after: PageKey | None = None,
    before: PageKey | None = None,
    scope: str,
) -> NumberedPage:
    """Page `number` of a dashboard table: the rows after the `after` key (behind Next) or
    before the `before` key (behind Previous) when one is given, else by offset (a page link).
    `number` is the URL's, for the pager ("Showing 21-40 of N"); the total as list_page's."""
    total = list_total(rows, scope=scope)
    pages = max(1, math.ceil(total / size))
    number = min(max(number, 1), pages)
    if after is not None:
        page = keyset_rows(rows, keyset=keyset, limit=size, after=after)
        items, more = page.items, page.next_key is not None
    elif before is not None:
        page = keyset_rows(rows, keyset=keyset.reversed(), limit=size, after=before)
        if page.next_key is None:  # Previous reached the first page: show it whole
            return numbered_keyset_page(rows, keyset=keyset, number=1, size=size, scope=scope)
        items, more = page.items[::-1], True
    else:
        offset = (number - 1) * size
        found = list(rows.order_by(*keyset.order_by())[offset : offset + size + 1])
        items, more = found[:size], len(found) > size
    return NumberedPage(
        items=items,
        total=total,
        number=number,
        pages=pages,
        size=size,
        next_key=keyset.key_of(items[-1]) if items and more else None,
        previous_key=keyset.key_of(items[0]) if items and number > 1 else None,
    )
