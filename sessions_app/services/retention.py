"""Cold storage (SPEC §13): finished sessions archived to compressed JSON, then deleted; and back.

An archive is one gzip file, `DIR/sessions/YYYY/MM/<session_id>.json.gz`, holding one JSON
object (ASCII, one trade per line so it can be written and checked in batches):

    {"format": "trading-session-archive", "version": 1, "archived_at": "<ISO>",
     "session": {<attname>: <value>, ...}, "runs": [{...}, ...], "events": [{...}, ...],
     "log": "<text of the log file>" | null, "trade_count": N,
     "trade_columns": ["id", "run_id", ...], "trades": [[...], ...]}

Rows hold every concrete field by attname; Decimals are strings, datetimes ISO 8601 with their
offset, JSON fields as they are; each value comes back through its field's `to_python`.
The trades file is not archived: a restore regenerates it from the trades.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone

from sessions_app.errors import Conflict, InvalidInput
from sessions_app.models import FINISHED, Run, Session, SessionEvent, Trade
from sessions_app.services.lifecycle import session_delete
from sessions_app.services.trades import TRADE_BATCH, TRADE_COLUMNS, trades_file_write

ARCHIVE_FORMAT = "trading-session-archive"
ARCHIVE_VERSION = 1
ARCHIVE_KEYS = ("format", "version", "session", "runs", "events", "log", "trade_columns", "trades")
TRADES_OPENING = b',"trades":['
# ASCII: no byte of a value is a newline, so one trade per line holds. NaN and infinities (a
# profit factor can be one) are kept as Python's json writes and reads them.
_JSON = {"separators": (",", ":"), "ensure_ascii": True}


def _fields(model: type[models.Model]) -> list[models.Field]:
    return list(model._meta.concrete_fields)


def _attnames(model: type[models.Model]) -> list[str]:
    return [f.attname for f in _fields(model)]


def _field(model: type[models.Model], attname: str) -> models.Field:
    return next(f for f in _fields(model) if f.attname == attname)


def _canonical(document: Any) -> bytes:
    """One JSON form to compare by (NaN is never equal to itself; its JSON text is)."""
    return json.dumps(document, **_JSON).encode()


@dataclass(frozen=True)
class ArchivedSession:
    session_id: str
    name: str | None
    status: str
    stopped_at: datetime
    trades: int
    path: Path


@dataclass
class CleanupResult:
    """What a cleanup did (or, in a dry run, would do)."""

    dry_run: bool
    archived: list[ArchivedSession] = field(default_factory=list)
    # Archived, but changed or gone by the time of the delete: left alone, archive removed.
    skipped: list[tuple[str, str]] = field(default_factory=list)
    # The archive could not be written or did not read back as written: nothing deleted.
    failed: list[tuple[str, str]] = field(default_factory=list)

    @property
    def sessions(self) -> int:
        return len(self.archived)

    @property
    def trades(self) -> int:
        return sum(a.trades for a in self.archived)

    @property
    def files(self) -> list[Path]:
        return [] if self.dry_run else [a.path for a in self.archived]


# --- cleanup ----------------------------------------------------------------------------------


def sessions_cleanup(
    *,
    older_than_days: int,
    statuses: list[str] | None = None,
    archive_dir: Path | None = None,
    dry_run: bool = False,
) -> CleanupResult:
    """Archive each finished session whose stopped_at is older than `older_than_days`, check
    the file reads back as written, then delete the session (rows and files)."""
    statuses = _clean_statuses(statuses)
    if isinstance(older_than_days, bool) or not isinstance(older_than_days, int) or older_than_days < 0:
        raise InvalidInput.from_errors(
            {"older_than": [f"Must be a whole number of days, 0 or more (got {older_than_days!r})."]}
        )
    archive_dir = Path(archive_dir) if archive_dir is not None else Path(settings.DATA_ROOT) / "cold"
    if archive_dir.exists() and not archive_dir.is_dir():
        raise InvalidInput.from_errors({"archive": [f"{archive_dir} is a file, not a directory."]})

    cutoff = timezone.now() - timedelta(days=older_than_days)
    candidates = list(
        Session.objects.filter(status__in=statuses, stopped_at__lt=cutoff)
        .order_by("stopped_at", "id")
        .values("id", "name", "status", "stopped_at")
    )
    result = CleanupResult(dry_run=dry_run)
    for row in candidates:
        path = _archive_path(archive_dir, row["id"], row["stopped_at"])
        if dry_run:
            trades = Trade.objects.filter(run__session_id=row["id"]).count()
            result.archived.append(
                ArchivedSession(row["id"], row["name"], row["status"], row["stopped_at"], trades, path)
            )
            continue
        try:
            head, trades, digest = _archive_write(session_id=row["id"], path=path)
        except Session.DoesNotExist:
            result.skipped.append((row["id"], "deleted before it could be archived"))
            continue
        except (OSError, ValueError) as exc:
            result.failed.append((row["id"], f"could not write {path}: {_reason(exc)}"))
            continue
        try:
            _archive_verify(path=path, head=head, trades=trades, digest=digest)
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            result.failed.append((row["id"], f"{path} did not read back as written: {_reason(exc)}"))
            _unlink_quietly(path)
            continue
        why_not = _delete_if_unchanged(head=head, trades=trades)
        if why_not:
            result.skipped.append((row["id"], why_not))
            _unlink_quietly(path)
            continue
        archived = head["session"]  # as it was written (and deleted), not as first listed
        result.archived.append(
            ArchivedSession(row["id"], archived["name"], archived["status"], row["stopped_at"], trades, path)
        )
    return result


def _clean_statuses(statuses: list[str] | None) -> list[str]:
    finished = [str(s) for s in FINISHED]
    if statuses is None:
        return finished
    if isinstance(statuses, str) or not statuses:
        raise InvalidInput.from_errors({"status": [f"Give one or more of {', '.join(finished)}."]})
    for status in statuses:
        if status in ("running", "created"):
            raise InvalidInput.from_errors(
                {"status": [f"{status} sessions are never cleaned up; only {', '.join(finished)}."]}
            )
        if status not in finished:
            raise InvalidInput.from_errors(
                {"status": [f"Must be one of {', '.join(finished)} (got {status!r})."]}
            )
    return list(dict.fromkeys(statuses))


def _archive_path(archive_dir: Path, session_id: str, stopped_at: datetime) -> Path:
    stopped = stopped_at.astimezone(UTC)
    return archive_dir / "sessions" / f"{stopped:%Y}" / f"{stopped:%m}" / f"{session_id}.json.gz"


def _archive_write(*, session_id: str, path: Path) -> tuple[dict, int, str]:
    """Write the archive to a temporary file and rename it into place. Returns the document
    without its trades, the number of trades and the sha256 of the uncompressed bytes."""
    head = _session_document(session_id)
    run_ids = [run["id"] for run in head["runs"]]
    head["trade_count"] = Trade.objects.filter(run_id__in=run_ids).count()
    head["trade_columns"] = _attnames(Trade)

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    digest = hashlib.sha256()
    written = 0
    try:
        with open(tmp, "wb") as raw:
            with gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:

                def emit(data: bytes) -> None:
                    digest.update(data)
                    gz.write(data)

                emit(_canonical(head)[:-1] + TRADES_OPENING)
                for row in _trade_rows(run_ids):
                    emit((b"\n" if written == 0 else b",\n") + _canonical(row))
                    written += 1
                emit(b"\n]}\n")
            raw.flush()
            os.fsync(raw.fileno())
        if written != head["trade_count"]:
            raise ValueError(f"{written} trades read, {head['trade_count']} counted")
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    except BaseException:
        _unlink_quietly(path)  # half-made: not an archive anyone should trust
        raise
    finally:
        _unlink_quietly(tmp)
    return head, written, digest.hexdigest()


def _session_document(session_id: str) -> dict[str, Any]:
    session = Session.objects.filter(pk=session_id).values(*_attnames(Session)).get()
    runs = Run.objects.filter(session_id=session_id).order_by("id").values(*_attnames(Run))
    events = (
        SessionEvent.objects.filter(session_id=session_id).order_by("id").values(*_attnames(SessionEvent))
    )
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "archived_at": timezone.now().isoformat(),
        "session": _row_to_json(Session, session),
        "runs": [_row_to_json(Run, run) for run in runs],
        "events": [_row_to_json(SessionEvent, event) for event in events],
        "log": _log_text(session["logs_file"]),
    }


def _trade_rows(run_ids: list[int]) -> Iterator[list]:
    """Every trade of the runs as JSON-ready lists, read in batches (keyset on id per run,
    which the run_id index serves) instead of all rows as ORM objects at once."""
    fields = _fields(Trade)
    decimal_columns = [i for i, f in enumerate(fields) if isinstance(f, models.DecimalField)]
    for run_id in run_ids:
        last_id = 0
        while True:
            batch = list(
                Trade.objects.filter(run_id=run_id, id__gt=last_id)
                .order_by("id")
                .values_list(*[f.attname for f in fields])[:TRADE_BATCH]
            )
            for values in batch:
                row = list(values)
                for i in decimal_columns:
                    if row[i] is not None:
                        row[i] = str(row[i])
                yield row
            if len(batch) < TRADE_BATCH:
                break
            last_id = batch[-1][0]


def _archive_verify(*, path: Path, head: dict, trades: int, digest: str) -> None:
    """Read the file back: it must decompress to exactly the bytes meant (sha256), its head must
    parse to the document meant, and every trade line must parse, as many as were written."""
    check = hashlib.sha256()
    width = len(head["trade_columns"])
    rows = 0
    closed = False
    with gzip.open(path, "rb") as archive:
        first = archive.readline()
        check.update(first)
        opening = first.rstrip(b"\n")
        if not opening.endswith(TRADES_OPENING):
            raise ValueError("the document's head is cut short")
        if _canonical(json.loads(opening + b"]}")) != _canonical({**head, "trades": []}):
            raise ValueError("the session, runs, events or log differ from what was written")
        for line in archive:
            check.update(line)
            if closed:
                raise ValueError("data after the end of the document")
            if line == b"]}\n":
                closed = True
                continue
            row = json.loads(line.rstrip(b"\n").rstrip(b","))
            if not isinstance(row, list) or len(row) != width:
                raise ValueError(f"trade line {rows + 1} is not a row of {width} values")
            rows += 1
    if not closed:
        raise ValueError("the document is cut short")
    if rows != trades:
        raise ValueError(f"{rows} trades in the file, {trades} written")
    if check.hexdigest() != digest:
        raise ValueError("its content differs from what was written (sha256)")


def _delete_if_unchanged(*, head: dict, trades: int) -> str | None:
    """Delete the archived session through the lifecycle, unless it is no longer finished or
    no longer what was archived; then say why it was left alone."""
    session_id = head["session"]["id"]
    with transaction.atomic():
        # Locked so no edit (name, notes) or new event (a late webhook) slips in between the
        # comparison and the delete; it would be lost with the rows.
        session = Session.objects.select_for_update().filter(pk=session_id).first()
        if session is None:
            return "deleted while it was being archived"
        if session.status not in FINISHED:
            return f"no longer finished ({session.status}) at delete time"
        current = _row_to_json(Session, {a: getattr(session, a) for a in _attnames(Session)})
        if _canonical(current) != _canonical(head["session"]):
            return "changed while it was being archived; left for the next cleanup"
        events = SessionEvent.objects.filter(session_id=session_id).count()
        runs = Run.objects.filter(session_id=session_id).count()
        stored = Trade.objects.filter(run__session_id=session_id).count()
        if (events, runs, stored) != (len(head["events"]), len(head["runs"]), trades):
            return "its runs, trades or events changed while it was being archived"
        session_delete(session=session)
    return None


# --- restore ----------------------------------------------------------------------------------


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
    log_path = Path(settings.DATA_ROOT) / "logs" / f"session_{session_id}.log"
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
            _unlink_quietly(file)
        raise
    return Session.objects.get(pk=session_id)


def _archive_read(path: Path) -> dict:
    try:
        with gzip.open(path, "rb") as archive:
            content = archive.read()
    except FileNotFoundError:
        raise _bad(path, "no such file") from None
    except gzip.BadGzipFile:
        raise _bad(path, "not a gzip file") from None
    except EOFError:
        raise _bad(path, "the gzip data is cut short") from None
    except zlib.error as exc:
        raise _bad(path, f"the gzip data is corrupt ({exc})") from None
    except OSError as exc:
        raise _bad(path, f"cannot be read ({_reason(exc)})") from None
    try:
        document = json.loads(content)
    except (UnicodeDecodeError, ValueError) as exc:
        raise _bad(path, f"not JSON ({exc})") from None
    if not isinstance(document, dict):
        raise _bad(path, "not an archive: the JSON is not an object")
    if document.get("format") != ARCHIVE_FORMAT:
        raise _bad(
            path, f"not a session archive (format {document.get('format')!r}, expected {ARCHIVE_FORMAT!r})"
        )
    if document.get("version") != ARCHIVE_VERSION:
        raise _bad(
            path, f"archive version {document.get('version')!r} is not supported (expected {ARCHIVE_VERSION})"
        )
    missing = [key for key in ARCHIVE_KEYS if key not in document]
    if missing:
        raise _bad(path, f"missing keys: {', '.join(missing)}")
    return document


def _archive_parse(path: Path, document: dict):
    """Every row of the document as field values (to_python), checked against the models."""
    session = _row_from_json(path, Session, document["session"], "session")
    if not isinstance(document["runs"], list) or not isinstance(document["events"], list):
        raise _bad(path, "runs and events must be lists")
    runs = [_row_from_json(path, Run, row, f"runs[{i}]") for i, row in enumerate(document["runs"])]
    events = [
        _row_from_json(path, SessionEvent, row, f"events[{i}]") for i, row in enumerate(document["events"])
    ]
    for label, rows in (("runs", runs), ("events", events)):
        for i, row in enumerate(rows):
            if row["session_id"] != session["id"]:
                raise _bad(
                    path, f"{label}[{i}] belongs to session {row['session_id']!r}, not {session['id']!r}"
                )
    if document["log"] is not None and not isinstance(document["log"], str):
        raise _bad(path, "log must be text or null")

    columns = document["trade_columns"]
    if not isinstance(columns, list) or sorted(map(str, columns)) != sorted(_attnames(Trade)):
        raise _bad(path, f"trade_columns must be {', '.join(_attnames(Trade))}")
    if not isinstance(document["trades"], list):
        raise _bad(path, "trades must be a list of rows")
    if "trade_count" in document and document["trade_count"] != len(document["trades"]):
        raise _bad(
            path, f"trade_count says {document['trade_count']}, the file holds {len(document['trades'])}"
        )
    run_ids = {run["id"] for run in runs}
    trade_fields = [_field(Trade, name) for name in columns]
    run_index = columns.index("run_id")
    trades = []
    for i, raw in enumerate(document["trades"]):
        if not isinstance(raw, list) or len(raw) != len(columns):
            raise _bad(path, f"trades[{i}] is not a row of {len(columns)} values")
        try:
            row = tuple(_value_from_json(f, v) for f, v in zip(trade_fields, raw, strict=True))
        except ValidationError as exc:
            raise _bad(path, f"trades[{i}]: {'; '.join(exc.messages)}") from None
        if row[run_index] not in run_ids:
            raise _bad(path, f"trades[{i}] belongs to run {row[run_index]!r}, which is not in the archive")
        trades.append(row)
    return session, runs, events, trades, columns


def _trades_insert_with_ids(columns: list[str], rows: list[tuple]) -> None:
    """The trades with their own ids, one executemany per batch (as trades_insert does, which
    inserts without ids); explicit ids are fine on SQLite and MariaDB alike."""
    fields = [_field(Trade, name) for name in columns]
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


# --- values -----------------------------------------------------------------------------------


def _value_to_json(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(field, models.DecimalField):
        return str(value)
    return value


def _value_from_json(field: models.Field, value: Any) -> Any:
    if value is None or isinstance(field, models.JSONField):
        return value
    if isinstance(field, models.DateTimeField) and not isinstance(value, str):
        raise ValidationError(f"{field.attname}: expected an ISO 8601 time, got {value!r}")
    python = field.to_python(value)
    if isinstance(field, models.DateTimeField) and timezone.is_naive(python):
        raise ValidationError(f"{field.attname}: the time {value!r} has no timezone")
    return python


def _row_to_json(model: type[models.Model], row: dict) -> dict:
    return {f.attname: _value_to_json(f, row[f.attname]) for f in _fields(model)}


def _row_from_json(path: Path, model: type[models.Model], row: Any, label: str) -> dict:
    if not isinstance(row, dict):
        raise _bad(path, f"{label} must be an object")
    expected = _attnames(model)
    missing = [name for name in expected if name not in row]
    unknown = sorted(set(row) - set(expected))
    if missing:
        raise _bad(path, f"{label} is missing {', '.join(missing)}")
    if unknown:
        raise _bad(path, f"{label} has unknown fields {', '.join(unknown)}")
    values = {}
    for f in _fields(model):
        try:
            values[f.attname] = _value_from_json(f, row[f.attname])
        except ValidationError as exc:
            raise _bad(path, f"{label}.{f.attname}: {'; '.join(exc.messages)}") from None
        if values[f.attname] is None and not f.null:
            raise _bad(path, f"{label}.{f.attname} must not be null")
    return values


# --- files ------------------------------------------------------------------------------------


def _log_text(logs_file: str | None) -> str | None:
    """The log's text; bytes that are not UTF-8 survive the trip as escaped surrogates."""
    if not logs_file:
        return None
    try:
        return Path(logs_file).read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def _text_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(text.encode("utf-8", "surrogateescape"))
    os.replace(tmp, path)


def _fsync_directory(directory: Path) -> None:
    """The rename itself made durable (a crash after the delete must not lose the archive)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _unlink_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def _reason(exc: BaseException) -> str:
    return getattr(exc, "strerror", None) or str(exc) or type(exc).__name__


def _bad(path: Path, problem: str) -> InvalidInput:
    return InvalidInput(f"{path}: {problem}.", {"file": [f"{path}: {problem}."]})
