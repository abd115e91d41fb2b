"""Cleanup to cold storage: finished sessions older than a number of days archived (one
gzip file each, in the format of `archive`), each file read back and checked, then deleted.

The database stays small while nothing is lost: a session is only deleted once its archive
has been read back as written, and never when it changed meanwhile.
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
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from sessions_app.data_files import stored_data_path
from sessions_app.errors import InvalidInput
from sessions_app.models import FINISHED, Run, Session, SessionEvent, Trade
from sessions_app.services.archive import (
    ARCHIVE_FORMAT,
    ARCHIVE_VERSION,
    TRADES_OPENING,
    attnames,
    canonical,
    error_reason,
    model_fields,
    row_to_json,
    unlink_quietly,
)
from sessions_app.services.lifecycle import session_delete
from sessions_app.services.trades import TRADE_BATCH


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
            result.failed.append((row["id"], f"could not write {path}: {error_reason(exc)}"))
            continue
        try:
            _archive_verify(path=path, head=head, trades=trades, digest=digest)
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            result.failed.append((row["id"], f"{path} did not read back as written: {error_reason(exc)}"))
            unlink_quietly(path)
            continue
        why_not = _delete_if_unchanged(head=head, trades=trades)
        if why_not:
            result.skipped.append((row["id"], why_not))
            unlink_quietly(path)
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
    head["trade_columns"] = attnames(Trade)

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

                emit(canonical(head)[:-1] + TRADES_OPENING)
                for row in _trade_rows(run_ids):
                    emit((b"\n" if written == 0 else b",\n") + canonical(row))
                    written += 1
                emit(b"\n]}\n")
            raw.flush()
            os.fsync(raw.fileno())
        if written != head["trade_count"]:
            raise ValueError(f"{written} trades read, {head['trade_count']} counted")
        os.replace(tmp, path)
        _fsync_directory(path.parent)
    except BaseException:
        unlink_quietly(path)  # half-made: not an archive anyone should trust
        raise
    finally:
        unlink_quietly(tmp)
    return head, written, digest.hexdigest()


def _session_document(session_id: str) -> dict[str, Any]:
    session = Session.objects.filter(pk=session_id).values(*attnames(Session)).get()
    runs = Run.objects.filter(session_id=session_id).order_by("id").values(*attnames(Run))
    events = SessionEvent.objects.filter(session_id=session_id).order_by("id").values(*attnames(SessionEvent))
    return {
        "format": ARCHIVE_FORMAT,
        "version": ARCHIVE_VERSION,
        "archived_at": timezone.now().isoformat(),
        "session": row_to_json(Session, session),
        "runs": [row_to_json(Run, run) for run in runs],
        "events": [row_to_json(SessionEvent, event) for event in events],
        "log": _log_text(session["logs_file"]),
    }


def _trade_rows(run_ids: list[int]) -> Iterator[list]:
    """Every trade of the runs as JSON-ready lists, read in batches (keyset on id per run,
    which the run_id index serves) instead of all rows as ORM objects at once."""
    fields = model_fields(Trade)
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
        if canonical(json.loads(opening + b"]}")) != canonical({**head, "trades": []}):
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
        current = row_to_json(Session, {a: getattr(session, a) for a in attnames(Session)})
        if canonical(current) != canonical(head["session"]):
            return "changed while it was being archived; left for the next cleanup"
        events = SessionEvent.objects.filter(session_id=session_id).count()
        runs = Run.objects.filter(session_id=session_id).count()
        stored = Trade.objects.filter(run__session_id=session_id).count()
        if (events, runs, stored) != (len(head["events"]), len(head["runs"]), trades):
            return "its runs, trades or events changed while it was being archived"
        session_delete(session=session)
    return None


# --- files ------------------------------------------------------------------------------------


def _log_text(logs_file: str | None) -> str | None:
    """The log's text; bytes that are not UTF-8 survive the trip as escaped surrogates. A
    stored path outside DATA_ROOT is no log of ours: never read (nor deleted after)."""
    path = stored_data_path(logs_file)
    if path is None:
        return None
    try:
        return path.read_bytes().decode("utf-8", "surrogateescape")
    except FileNotFoundError:
        return None


def _fsync_directory(directory: Path) -> None:
    """The rename itself made durable (a crash after the delete must not lose the archive)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
