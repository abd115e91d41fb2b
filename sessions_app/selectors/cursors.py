"""Keyset cursors as the API and the dashboard hand them out: opaque, signed, tied to the list
and sort they page.

A cursor is the last row's (sort value, id) and the list's name and sort, as JSON,
urlsafe-base64 and signed with SECRET_KEY (`django.core.signing`), so an edited or made-up
cursor is refused rather than read as some other position. Decimals and times travel as
strings (exact: a decimal's digits, a time's microseconds) and come back as the model field
reads them. One format for every keyset-paged list: sessions, runs, trades.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.core import signing
from django.core.exceptions import ValidationError
from django.db.models import Model

from sessions_app.errors import InvalidInput
from sessions_app.selectors.paging import Keyset, PageKey

# The salt of the cursors already handed out (and bookmarked): it names the module they were
# first made in, and changing it would refuse them all.
SALT = "sessions_app.api.cursor"
NOT_A_CURSOR = "Not a cursor this API returned (pass next_cursor unchanged)."


def _sort_key(list_name: str, sort: str, descending: bool) -> str:
    return f"{list_name}/{sort}:{'desc' if descending else 'asc'}"


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def cursor_dumps(key: PageKey | None, *, list_name: str, sort: str, descending: bool) -> str | None:
    """The next_cursor of a page (None on the last page). `sort` is the list's own name of its
    order (for runs, created_at pages by id)."""
    if key is None:
        return None
    payload = [_sort_key(list_name, sort, descending), _plain(key.value), key.id]
    return signing.dumps(payload, salt=SALT, compress=False)


def _refused(message: str = NOT_A_CURSOR) -> InvalidInput:
    return InvalidInput.from_errors({"cursor": [message]})


def _value(model: type[Model], field_name: str | None, value: Any) -> Any:
    """The sort value as the model field holds it; ValueError when it is not one."""
    if field_name is None or value is None:
        if value is not None or (field_name is not None and not model._meta.get_field(field_name).null):
            raise ValueError(value)
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise ValueError(value)
    try:
        parsed = model._meta.get_field(field_name).to_python(value)
    except ValidationError:
        raise ValueError(value) from None
    if parsed is None or (isinstance(parsed, Decimal) and not parsed.is_finite()):
        raise ValueError(value)
    return parsed


def cursor_loads(raw: str | None, *, list_name: str, sort: str, keyset: Keyset) -> PageKey | None:
    """The key a `cursor` names for this list, sort and order; None without one; a 400 naming
    `cursor` else."""
    if raw in (None, ""):
        return None
    try:
        payload = signing.loads(str(raw), salt=SALT)
    except (signing.BadSignature, ValueError):
        raise _refused() from None
    if not (isinstance(payload, list) and len(payload) == 3):
        raise _refused()
    cursor_sort, value, row_id = payload
    model, field = keyset.model, keyset.field
    expected = _sort_key(list_name, sort, keyset.descending)
    if cursor_sort != expected:
        shown = str(cursor_sort).rpartition("/")[2]
        raise _refused(
            f"This cursor pages sort={shown} of another list or order, not sort={expected}: start again without it."
        )
    int_id = model._meta.pk.get_internal_type() in (
        "AutoField",
        "BigAutoField",
        "IntegerField",
        "BigIntegerField",
    )
    if (int_id and (not isinstance(row_id, int) or isinstance(row_id, bool))) or (
        not int_id and not isinstance(row_id, str)
    ):
        raise _refused()
    try:
        return PageKey(value=_value(model, field, value), id=row_id)
    except ValueError:
        raise _refused() from None
