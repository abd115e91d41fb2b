"""Trades written in bulk (the runner, legacy imports, restores) and the trades file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from django.conf import settings
from django.db import connection, transaction

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
    by_run: dict[int, list] = {}
    for row in rows:
        by_run.setdefault(row[0], []).append(dict(zip(TRADE_COLUMNS[1:], row[1:], strict=True)))
    runs = [
        {"config_hash": run.config_hash, "params": run.params, "trades": by_run.get(run.pk, [])}
        for run in session.runs.order_by("id")
    ]
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"session_id": session.pk, "runs": runs}))
    os.replace(tmp, path)
    Session.objects.filter(pk=session.pk).update(trades_file=str(path))
    return str(path)
