"""Trades written in bulk (the runner, legacy imports, restores) and the trades file."""

from __future__ import annotations

import os
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
