"""The cold-storage archive of one session: its format and the values' way into JSON and back.

Old sessions leave the database for compressed files (`cleanup`) and can come back whole
(`restore`); both read and write the format described here.

An archive is one gzip file, `DIR/sessions/YYYY/MM/<session_id>.json.gz`, holding one JSON
object (ASCII, one trade per line so it can be written and checked in batches):

    {"format": "trading-session-archive", "version": 1, "archived_at": "<ISO>",
     "session": {<attname>: <value>, ...}, "runs": [{...}, ...], "events": [{...}, ...],
     "log": "<text of the log file>" | null, "trade_count": N,
     "trade_columns": ["id", "run_id", ...], "trades": [[...], ...]}

Rows hold every concrete field by attname; Decimals are strings, datetimes ISO 8601 with their
offset, JSON fields as they are; each value comes back through its field's `to_python`. Fields
added since (`ADDED_FIELDS`) may be absent: they come back as their stated value.
The trades file is not archived: a restore regenerates it from the trades.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from sessions_app.errors import InvalidInput

ARCHIVE_FORMAT = "trading-session-archive"
ARCHIVE_VERSION = 1
ARCHIVE_KEYS = ("format", "version", "session", "runs", "events", "log", "trade_columns", "trades")
TRADES_OPENING = b',"trades":['
# ASCII: no byte of a value is a newline, so one trade per line holds. NaN and infinities (a
# profit factor can be one) are kept as Python's json writes and reads them.
JSON_FORM = {"separators": (",", ":"), "ensure_ascii": True}


# Fields added since version 1 of the format came out, with the value (in JSON form) an archive
# written before them stands for: such an archive is restored with it (the engine of the time
# ran unlevered, sized in units and paid no funding; its trades all closed on a signal).
ADDED_FIELDS: dict[str, dict[str, Any]] = {
    "Session": {"leverage": "1", "sizing": "units", "maintenance_margin_pct": None, "funding": False},
    "Trade": {"exit_reason": "signal", "funding": "0"},
}


def model_fields(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in model_fields(model)]


def field_named(model: type[models.Model], attname: str) -> models.Field:
    return next(f for f in model_fields(model) if f.attname == attname)


def canonical(document: Any) -> bytes:
    """One JSON form to compare by (NaN is never equal to itself; its JSON text is)."""
    return json.dumps(document, **JSON_FORM).encode()


def value_to_json(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(field, models.DecimalField):
        return str(value)
    return value


def value_from_json(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.DateTimeField) and not isinstance(value, str):
        raise ValidationError(f"{field.attname}: expected an ISO 8601 time, got {value!r}")
    python = field.to_python(value)
    if isinstance(field, models.DateTimeField) and timezone.is_naive(python):
        raise ValidationError(f"{field.attname}: the time {value!r} has no timezone")
    return python


def row_to_json(model: type[models.Model], row: dict) -> dict:
    return {f.attname: value_to_json(f, row[f.attname]) for f in model_fields(model)}


def row_from_json(path: Path, model: type[models.Model], row: Any, label: str) -> dict:
    if not isinstance(row, dict):
        raise archive_refused(path, f"{label} must be an object")
    row = {**ADDED_FIELDS.get(model.__name__, {}), **row}
    expected = attnames(model)
    missing = [name for name in expected if name not in row]
    unknown = sorted(set(row) - set(expected))
    if missing:
        raise archive_refused(path, f"{label} is missing {', '.join(missing)}")
    if unknown:
        raise archive_refused(path, f"{label} has unknown fields {', '.join(unknown)}")
    values = {}
    for f in model_fields(model):
        try:
            values[f.attname] = value_from_json(f, row[f.attname])
        except ValidationError as exc:
            raise archive_refused(path, f"{label}.{f.attname}: {'; '.join(exc.messages)}") from None
        if values[f.attname] is None and not f.null:
            raise archive_refused(path, f"{label}.{f.attname} must not be null")
    return values


def unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def error_reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def archive_refused(path: Path, problem: str) -> InvalidInput:
    return InvalidInput(f"{path}: {problem}.", {"file": [f"{path}: {problem}."]})
