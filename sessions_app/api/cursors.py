"""Keyset cursors as the API hands them out: opaque, signed, tied to the sort they page.

A cursor is the last row's (sort value, id) and the sort, as JSON, urlsafe-base64 and signed
with SECRET_KEY (`django.core.signing`), so an edited or made-up cursor is refused rather than
read as some other position. Decimals travel as strings: they come back exactly.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.core import signing

from sessions_app.errors import InvalidInput
from sessions_app.selectors import RunKey

SALT = "sessions_app.api.cursor"


def _sort_key(sort: str, descending: bool) -> str:
    return f"{sort}:{'desc' if descending else 'asc'}"


def cursor_dumps(key: RunKey | None, *, sort: str, descending: bool) -> str | None:
    """The next_cursor of a page (None on the last page)."""
    if key is None:
        return None
    value = None if key.value is None else str(key.value)
    return signing.dumps([_sort_key(sort, descending), value, key.id], salt=SALT, compress=False)


def _refused(message: str) -> InvalidInput:
    return InvalidInput.from_errors({"cursor": [message]})


def cursor_loads(raw: str | None, *, sort: str, descending: bool) -> RunKey | None:
    """The key a `cursor` names for this sort; None without one; a 400 naming `cursor` else."""
    sort = _sort_key(sort, descending)
    if raw in (None, ""):
        return None
    try:
        payload = signing.loads(str(raw), salt=SALT)
    except (signing.BadSignature, ValueError):
        raise _refused("Not a cursor this API returned (pass next_cursor unchanged).") from None
    if not (isinstance(payload, list) and len(payload) == 3):
        raise _refused("Not a cursor this API returned (pass next_cursor unchanged).")
    cursor_sort, value, row_id = payload
    if cursor_sort != sort:
        raise _refused(f"This cursor pages sort={cursor_sort}, not sort={sort}: start again without it.")
    try:
        decimal = None if value is None else Decimal(value)
    except (InvalidOperation, TypeError):
        decimal = Decimal("NaN")
    if not isinstance(row_id, int) or (decimal is not None and not decimal.is_finite()):
        raise _refused("Not a cursor this API returned (pass next_cursor unchanged).")
    return RunKey(value=decimal, id=row_id)
