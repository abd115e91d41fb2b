"""Trades written in bulk (the runner, legacy imports, restores) and the trades file."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import orjson
from django.conf import settings
from django.db import connection, transaction

from sessions_app.list_totals import scopes_changed, trades_scope
from sessions_app.models import Session, Trade

TRADE_BATCH = 2000
# A trade row as `trades_insert` takes it: these columns, in this order.
TRADE_COLUMNS = ("run_id", *Trade.VALUE_FIELDS)


def trades_insert(rows: list[tuple]) -> None:
    """Insert trade rows (tuples of TRADE_COLUMNS) with one parameterised executemany.

    A year of 1m candles can make 30,000 trades; the ORM's bulk_create spends seconds
    preparing each field of each row, the driver's executemany a fraction of that (mysqlclient
    folds it into multi-row INSERTs). The values are plain floats, ints and strings.
    """
    quote = connection.ops.quote_name
    sql = (
        f"INSERT INTO {quote(Trade._meta.db_table)} ({', '.join(quote(c) for c in TRADE_COLUMNS)}) "
        f"VALUES ({', '.join(['%s'] * len(TRADE_COLUMNS))})"
    )
    # One transaction: in autocommit SQLite would commit (and sync) every single row.
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), TRADE_BATCH):
            cursor.executemany(sql, rows[start : start + TRADE_BATCH])
        scopes_changed(trades_scope(run_id) for run_id in {row[0] for row in rows})


def trades_insert_missing(*, run_id: int, rows: list[tuple]) -> int:
    """Insert those of a run's trade rows that are not in the table yet (same market, entry and
    exit time): a write tried again after the database went away mid-way, or a replay after a
    resume, counts each trade once. Returns how many were inserted."""
    if not rows:
        return 0
    first = min(row[3] for row in rows)
    present = set(
        Trade.objects.filter(run_id=run_id, entry_time__gte=first).values_list(
            "market", "entry_time", "exit_time"
        )
    )
    missing = [row for row in rows if (row[1], row[3], row[6]) not in present]
    trades_insert(missing)
    return len(missing)


def trades_file_write(*, session: Session, rows: list[tuple]) -> str:
    """`trades_<id>.json` under DATA_ROOT/trades: every run with its trades (rows as
    `trades_insert` takes them), written atomically; the path is recorded on the session."""
    directory = Path(settings.DATA_ROOT) / "trades"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"trades_{session.pk}.json"
    fields = TRADE_COLUMNS[1:]
    by_run: dict[int, list] = {}
    for row in rows:
        by_run.setdefault(row[0], []).append(dict(zip(fields, row[1:], strict=True)))
    runs = [
        {"config_hash": run.config_hash, "params": run.params, "trades": by_run.get(run.pk, [])}
        for run in session.runs.order_by("id")
    ]
    tmp = path.with_suffix(".json.tmp")
    # orjson: a sweep's file holds millions of trades, which the json module takes seconds over.
    tmp.write_bytes(orjson.dumps({"session_id": session.pk, "runs": runs}))
    os.replace(tmp, path)
    Session.objects.filter(pk=session.pk).update(trades_file=str(path))
    return str(path)


# A sweep's trades file, assembled from one part per run: each process sharing the sweep
# writes the part of every run it computed (the JSON encoding is spread over the processes),
# the process that ends the session joins them as text. A part that is missing (a run copied
# from another, failed, or computed on a machine that does not share DATA_ROOT) is built from
# the table. The result is byte for byte what trades_file_write would write.
DECIMAL_COLUMNS = {
    i for i, c in enumerate(TRADE_COLUMNS) if c not in ("run_id", "market", "side", "entry_time", "exit_time")
}


def _parts_dir(session_id: str) -> Path:
    return Path(settings.DATA_ROOT) / "trades" / f"parts_{session_id}"


def _run_part(config_hash: str, params: dict, rows) -> str:
    trades = [dict(zip(TRADE_COLUMNS[1:], row[1:], strict=True)) for row in rows]
    return orjson.dumps({"config_hash": config_hash, "params": params, "trades": trades}).decode()


def trades_part_write(
    *, session_id: str, run_id: int, config_hash: str, params: dict, rows: list[tuple]
) -> None:
    """One run's part of the session's trades file (rows as `trades_insert` took them)."""
    directory = _parts_dir(session_id)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{run_id}.json.tmp"
    tmp.write_text(_run_part(config_hash, params, rows))
    os.replace(tmp, directory / f"{run_id}.json")


def trades_file_assemble(*, session: Session, copy_of: Session | None = None) -> str:
    """`trades_<id>.json` of a sweep from its runs' parts (see above). `copy_of`: a session
    whose runs this one copied, every one, in the same order (a cloned sweep, all reused):
    its file is this one's but for the session id, so it is copied as it is."""
    directory = Path(settings.DATA_ROOT) / "trades"
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"trades_{session.pk}.json"
    head = '{"session_id":' + orjson.dumps(session.pk).decode() + ',"runs":['
    text = _copied_file(copy_of, head) if copy_of is not None else None
    if text is None:
        runs = list(session.runs.order_by("id").values_list("pk", "config_hash", "params"))
        parts_dir = _parts_dir(session.pk)
        parts = {}
        for pk, _hash, _params in runs:
            part = parts_dir / f"{pk}.json"
            if part.is_file():
                parts[pk] = part.read_text()
        from_table = _trade_rows([pk for pk, _h, _p in runs if pk not in parts])
        for pk, config_hash, params in runs:
            if pk not in parts:
                parts[pk] = _run_part(config_hash, params, from_table.get(pk, []))
        text = head + ",".join(parts[pk] for pk, _h, _p in runs) + "]}"
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)
    shutil.rmtree(_parts_dir(session.pk), ignore_errors=True)
    Session.objects.filter(pk=session.pk).update(trades_file=str(path))
    return str(path)


def _copied_file(source: Session, head: str) -> str | None:
    if not source.trades_file or not Path(source.trades_file).is_file():
        return None
    text = Path(source.trades_file).read_text()
    source_head = '{"session_id":' + orjson.dumps(source.pk).decode() + ',"runs":['
    return head + text[len(source_head) :] if text.startswith(source_head) else None


def _trade_rows(run_ids: list[int]) -> dict[int, list[tuple]]:
    """The runs' trades as `trades_insert` takes them (numbers as floats), read with one
    plain cursor: the ORM's per-value converters cost seconds on a sweep's trades."""
    if not run_ids:
        return {}
    quote = connection.ops.quote_name
    placeholders = ", ".join(["%s"] * len(run_ids))
    sql = (
        f"SELECT {', '.join(quote(c) for c in TRADE_COLUMNS)} FROM {quote(Trade._meta.db_table)} "
        f"WHERE {quote('run_id')} IN ({placeholders}) ORDER BY {quote('run_id')}, {quote('entry_time')}, {quote('id')}"
    )
    by_run: dict[int, list[tuple]] = {}
    with connection.cursor() as cursor:
        cursor.execute(sql, run_ids)
        for row in cursor.fetchall():
            by_run.setdefault(row[0], []).append(
                tuple(float(v) if i in DECIMAL_COLUMNS and v is not None else v for i, v in enumerate(row))
            )
    return by_run
