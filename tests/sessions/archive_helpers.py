"""Sessions made for the cleanup/restore tests, and a way to make file permissions bind root."""

from __future__ import annotations

import ctypes
import os
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import Model
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent, Trade
from sessions_app.services.trades import trades_file_write, trades_insert


def trade_rows(run: Run, count: int, *, start: int = 1_767_225_600) -> list[tuple]:
    """Trade tuples as trades_insert takes them; the last one still open (no exit)."""
    rows = []
    for i in range(count):
        entry = start + i * 600
        if i == count - 1:
            rows.append(
                (
                    run.pk,
                    "XBTUSD",
                    "short",
                    entry,
                    43210.1234567891,
                    0.0125,
                    None,
                    None,
                    None,
                    0,
                    0.00001,
                    "signal",
                    0.0,
                )
            )
        else:
            rows.append(
                (
                    run.pk,
                    "XBTUSD",
                    "long" if i % 2 else "short",
                    entry,
                    43000.5 + i,
                    0.25,
                    entry + 300,
                    43001.75 + i,
                    0.25,
                    0.3125 - i / 7,
                    0.0001234567,
                    ("signal", "end", "liquidation")[i % 3],
                    0.0000125 * (i % 2),
                )
            )
    return rows


def finish(
    make_session,
    *,
    status: str = "completed",
    days_ago: float = 40,
    trades: int = 3,
    log: str | None = "line one\nline two\n",
    queued: bool = True,
    **fields,
) -> Session:
    """A session ended for real (session_stop / session_finish), with trades, an event, a log
    and a trades file, whose stopped_at is then moved `days_ago` into the past.

    `queued=False` marks it running with an update instead of session_start: in a test whose
    transactions commit, a start would send a real message that no test wants."""
    if queued:
        session = make_session(start=True, **fields)
    else:
        session = make_session(**fields)
        Session.objects.filter(pk=session.pk).update(status="running", started_at=timezone.now())
    if status == "stopped":
        services.session_stop(session=session)
    else:
        services.session_finish(session=session, status=status, error="boom" if status == "failed" else None)
    rows = []
    for run in session.runs.order_by("id"):
        rows += trade_rows(run, trades)
    trades_insert(rows)
    services.event_record(session=session, event_type="info", data={"note": "checked", "n": [1, 2.5]})
    if log is not None:
        path = Path(settings.DATA_ROOT) / "logs" / f"session_{session.pk}.log"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(log)
        services.session_files_set(session=session, logs_file=str(path))
    trades_file_write(session=Session.objects.get(pk=session.pk), rows=rows)
    Session.objects.filter(pk=session.pk).update(stopped_at=timezone.now() - timedelta(days=days_ago))
    return Session.objects.get(pk=session.pk)


def row_values(instance: Model) -> dict:
    """Every concrete field of a row, by attname."""
    return {f.attname: getattr(instance, f.attname) for f in instance._meta.concrete_fields}


def snapshot(session_id: str) -> dict:
    """The session and everything that belongs to it, field by field, plus its files."""
    session = Session.objects.get(pk=session_id)
    return {
        "session": row_values(session),
        "runs": [row_values(r) for r in Run.objects.filter(session_id=session_id).order_by("id")],
        "events": [row_values(e) for e in SessionEvent.objects.filter(session_id=session_id).order_by("id")],
        "trades": [row_values(t) for t in Trade.objects.filter(run__session_id=session_id).order_by("id")],
        "log": Path(session.logs_file).read_bytes() if session.logs_file else None,
        "trades_file": Path(session.trades_file).read_text() if session.trades_file else None,
    }


# --- permissions that bind root -------------------------------------------------------------

_CAP_DAC_OVERRIDE, _CAP_DAC_READ_SEARCH = 1, 2
_CAPABILITY_VERSION_3 = 0x20080522


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


@contextmanager
def file_permissions_enforced():
    """Root ignores file modes (CAP_DAC_OVERRIDE): this thread gives those capabilities up
    for a while, so a chmod or umask means to it what it means to any user. Capabilities are
    per thread on Linux: other threads (a shared worker) keep theirs."""
    if os.geteuid() != 0:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    header, data = _CapHeader(_CAPABILITY_VERSION_3, 0), (_CapData * 2)()
    if libc.capget(ctypes.byref(header), data) != 0:
        raise OSError(ctypes.get_errno(), "capget")
    saved = [(d.effective, d.permitted, d.inheritable) for d in data]
    data[0].effective &= ~((1 << _CAP_DAC_OVERRIDE) | (1 << _CAP_DAC_READ_SEARCH))
    if libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), data) != 0:
        raise OSError(ctypes.get_errno(), "capset")
    try:
        yield
    finally:
        for d, (effective, permitted, inheritable) in zip(data, saved, strict=True):
            d.effective, d.permitted, d.inheritable = effective, permitted, inheritable
        if libc.capset(ctypes.byref(_CapHeader(_CAPABILITY_VERSION_3, 0)), data) != 0:
            raise OSError(ctypes.get_errno(), "capset (restore)")


@contextmanager
def umask(mask: int):
    previous = os.umask(mask)
    try:
        yield
    finally:
        os.umask(previous)
