"""An archived session brought back whole from its cold-storage file (see `archive`)."""

from __future__ import annotations

import gzip
import json
import os
import uuid
import zlib
from decimal import Decimal
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from sessions_app.data_files import log_path as session_log_path
from sessions_app.errors import Conflict
from sessions_app.list_totals import scopes_changed, sessions_changed, trades_scope
from sessions_app.models import Run, Session, SessionEvent, Trade
from sessions_app.services.archive import (
    ADDED_FIELDS,
    ARCHIVE_FORMAT,
    ARCHIVE_KEYS,
    ARCHIVE_VERSION,
    archive_refused,
    attnames,
    error_reason,
    field_named,
    row_from_json,
    unlink_quietly,
    value_from_json,
)
from sessions_app.services.trades import TRADE_BATCH, TRADE_COLUMNS, trades_file_write


def session_restore(*, path: Path) -> Session:
    """Bring an archived session back whole: same id and values, runs, trades and events (same
    ids), its log file, and its trades file regenerated. Nothing is written on a bad file or
    when the session exists already."""
    path = Path(path)
    document = _archive_read(path)
    session_values, runs, events, trade_rows, trade_columns = _archive_parse(path, document)
    session_id = session_values["id"]
    if Session.objects.filter(pk=session_id).exists():
        raise Conflict(
            f"Session {session_id} exists already; {path} was not restored.",
            {"session": [f"Session {session_id} exists already."]},
        )
    for name, model in (("cloned_from_id", Session), ("created_by_id", get_user_model())):
        if session_values[name] is not None and not model.objects.filter(pk=session_values[name]).exists():
            session_values[name] = None  # gone meanwhile, as SET NULL would have made it

    log_text = document["log"]
    had_trades_file = bool(session_values["trades_file"])
    log_path = session_log_path(session_id)  # under DATA_ROOT: the id is a UUID (_archive_parse)
    session_values["logs_file"] = str(log_path) if log_text is not None else None
    session_values["trades_file"] = None  # set by trades_file_write below when it had one
    written: list[Path] = []
    try:
        with transaction.atomic():
            try:
                with transaction.atomic():
                    Session(**session_values).save(force_insert=True)
                    Run.objects.bulk_create([Run(**values) for values in runs])
                    SessionEvent.objects.bulk_create([SessionEvent(**values) for values in events])
                    _trades_insert_with_ids(trade_columns, trade_rows)
                    sessions_changed()
                    scopes_changed(trades_scope(values["id"]) for values in runs)
            except IntegrityError as exc:
                raise Conflict(
                    f"{path}: a row of it exists already (session {session_id}, or one of its "
                    f"run, trade or event ids); nothing restored. ({exc})",
                    {"session": [f"Session {session_id} or one of its ids exists already."]},
                ) from None
            if log_text is not None:
                _text_write(log_path, log_text)
                written.append(log_path)
            if had_trades_file:
                session = Session.objects.get(pk=session_id)
                written.append(
                    Path(trades_file_write(session=session, rows=_file_rows(trade_columns, trade_rows)))
                )
    except BaseException:
        for file in written:
            unlink_quietly(file)
        raise
    return Session.objects.get(pk=session_id)


def _archive_read(path: Path) -> dict:
    try:
        with gzip.open(path, "rb") as archive:
            content = archive.read()
    except FileNotFoundError:
        raise archive_refused(path, "no such file") from None
    except gzip.BadGzipFile:
        raise archive_refused(path, "not a gzip file") from None
    except EOFError:
        raise archive_refused(path, "the gzip data is cut short") from None
    except zlib.error as exc:
        raise archive_refused(path, f"the gzip data is corrupt ({exc})") from None
    except OSError as exc:
        raise archive_refused(path, f"cannot be read ({error_reason(exc)})") from None
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise archive_refused(path, f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise archive_refused(path, "not an archive: the JSON is not an object")
    if document.get("format") != ARCHIVE_FORMAT:
        raise archive_refused(
            path, f"not a session archive (format {document.get('format')!r}, expected {ARCHIVE_FORMAT!r})"
        )
    if document.get("version") != ARCHIVE_VERSION:
        raise archive_refused(
            path, f"archive version {document.get('version')!r} is not supported (expected {ARCHIVE_VERSION})"
        )
    missing = [key for key in ARCHIVE_KEYS if key not in document]
    if missing:
        raise archive_refused(path, f"missing keys: {', '.join(missing)}")
    return document


def _archive_parse(path: Path, document: dict):
    """Every row of the document as field values (to_python), checked against the models."""
    session = row_from_json(path, Session, document["session"], "session")
    # The id names the log and trades files: anything but a UUID (`../../tmp/x`) is refused.
    if not _is_uuid(session["id"]):
        raise archive_refused(path, f"session.id must be a UUID, got {session['id']!r}")
    if not isinstance(document["runs"], list) or not isinstance(document["events"], list):
        raise archive_refused(path, "runs and events must be lists")
    runs = [row_from_json(path, Run, row, f"runs[{i}]") for i, row in enumerate(document["runs"])]
    events = [
        row_from_json(path, SessionEvent, row, f"events[{i}]") for i, row in enumerate(document["events"])
    ]
    for label, rows in (("runs", runs), ("events", events)):
        for i, row in enumerate(rows):
            if row["session_id"] != session["id"]:
                raise archive_refused(
                    path, f"{label}[{i}] belongs to session {row['session_id']!r}, not {session['id']!r}"
                )
    if document["log"] is not None and not isinstance(document["log"], str):
        raise archive_refused(path, "log must be text or null")

    columns = document["trade_columns"]
    added = ADDED_FIELDS["Trade"]
    if isinstance(columns, list):  # an archive from before a trade field was added
        columns = [*columns, *(name for name in added if name not in columns)]
    if not isinstance(columns, list) or sorted(map(str, columns)) != sorted(attnames(Trade)):
        raise archive_refused(path, f"trade_columns must be {', '.join(attnames(Trade))}")
    if not isinstance(document["trades"], list):
        raise archive_refused(path, "trades must be a list of rows")
    missing = columns[len(document["trade_columns"]) :]
    if missing:
        defaults = [added[name] for name in missing]
        document["trades"] = [
            [*raw, *defaults] if isinstance(raw, list) else raw for raw in document["trades"]
        ]
    if "trade_count" in document and document["trade_count"] != len(document["trades"]):
        raise archive_refused(
            path, f"trade_count says {document['trade_count']}, the file holds {len(document['trades'])}"
        )
    run_ids = {run["id"] for run in runs}
    trade_fields = [field_named(Trade, name) for name in columns]
    run_index = columns.index("run_id")
    trades = []
    for i, raw in enumerate(document["trades"]):
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise archive_refused(path, f"trades[{i}] is not a row of {len(columns)} values")
        try:
            row = tuple(value_from_json(f, v) for f, v in zip(trade_fields, raw, strict=True))
        except ValidationError as exc:
            raise archive_refused(path, f"trades[{i}]: {'; '.join(exc.messages)}") from None
        if row[run_index] not in run_ids:
            raise archive_refused(
                path, f"trades[{i}] belongs to run {row[run_index]!r}, which is not in the archive"
            )
        trades.append(row)
    return session, runs, events, trades, columns


def _is_uuid(value: str) -> bool:
    """A UUID in the form the product writes them (lower case, with hyphens)."""
    try:
        return str(uuid.UUID(value)) == value
    except ValueError:
        return False


def _trades_insert_with_ids(columns: list[str], rows: list[tuple]) -> None:
    """The trades with their own ids, one executemany per batch (as trades_insert does, which
    inserts without ids); explicit ids are fine on SQLite and MariaDB alike."""
    fields = [field_named(Trade, name) for name in columns]
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Trade._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    with connection.cursor() as cursor:
        for start in range(0, len(rows), TRADE_BATCH):
            cursor.executemany(
                sql,
                [
                    [f.get_db_prep_save(v, connection) for f, v in zip(fields, row, strict=True)]
                    for row in rows[start : start + TRADE_BATCH]
                ],
            )


def _file_rows(columns: list[str], rows: list[tuple]) -> list[tuple]:
    """Trades as the runner hands them to trades_file_write: TRADE_COLUMNS, numbers as floats."""
    index = [columns.index(name) for name in TRADE_COLUMNS]
    return [tuple(float(v) if isinstance(v, Decimal) else v for v in (row[i] for i in index)) for row in rows]


def _text_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(text.encode("utf-8", "surrogateescape"))
    os.replace(tmp, path)
