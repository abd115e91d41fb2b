"""Trades written in bulk (the runner, legacy imports, restores) and the trades file."""

from __future__ import annotations

import math
import os
import shutil
from itertools import chain
from pathlib import Path

import orjson
from django.db import connection, transaction

from sessions_app.data_files import data_path, stored_data_path
from sessions_app.list_totals import scopes_changed, trades_scope
from sessions_app.models import Session, Trade

TRADE_BATCH = 2000
# A trade row as `trades_insert` takes it: these columns, in this order.
TRADE_COLUMNS = ("run_id", *Trade.VALUE_FIELDS)


# A trade's amounts as the trades table keeps them (DECIMAL(24, 10): under 1e14 in size).
_AMOUNT_AT = {
    name: 1 + Trade.VALUE_FIELDS.index(name)
    for name in ("entry_price", "entry_size", "exit_price", "exit_size", "realized_pnl", "fee", "funding")
}
_AMOUNT_FIELD = Trade._meta.get_field("entry_size")
TRADE_AMOUNT_LIMIT = 10.0 ** (_AMOUNT_FIELD.max_digits - _AMOUNT_FIELD.decimal_places)


class TradeValueError(ValueError):
    """A trade the database cannot keep: the run fails with this, no row of it written."""


def trade_values_check(rows: list[tuple]) -> tuple[str, float] | None:
    """(field, value) of the first amount of these trade rows (TRADE_COLUMNS) that is not
    finite or reaches TRADE_AMOUNT_LIMIT in size; None when all fit. An open trade's exit is None."""
    for row in rows:
        for name, at in _AMOUNT_AT.items():
            value = row[at]
            if value is not None and not (math.isfinite(value) and abs(value) < TRADE_AMOUNT_LIMIT):
                return name, float(value)
    return None


def trade_amounts_refuse(found: tuple[str, float] | None) -> None:
    """Raise TradeValueError for what trade_values_check (or the engine's own
    TradeLog.first_out_of_bounds) found. A strategy sizing itself into 1e300 once made a session
    whose trades could not be read back (its pages answered 500); now its run fails first."""
    if found is not None:
        name, value = found
        raise TradeValueError(
            f"A trade's {name} is {value!r}, which the trades table cannot store (at most "
            f"{TRADE_AMOUNT_LIMIT:.0e} in size): the strategy's sizes are out of bounds."
        )


def trades_insert(rows: list[tuple]) -> None:
    """Insert trade rows (tuples of TRADE_COLUMNS), by the fastest path of the database.

    A sweep over a year of 1m candles makes about 2 million trades; the ORM's bulk_create
    spends seconds preparing each field of each row. SQLite: multi-row INSERT statements on
    the plain sqlite3 cursor (its executemany steps a statement per row, twice the time).
    MariaDB: multi-row INSERTs whose values are written here (`_mysql_values`, a third of the
    time mysqlclient's executemany takes to quote them); rows of other shapes go through
    executemany. The values are plain floats, ints and strings.
    """
    if not rows:
        return
    # One transaction: in autocommit SQLite would commit (and sync) every single row.
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            _sqlite_insert(rows)
        elif connection.vendor == "mysql":
            _mysql_insert(cursor, rows)
        else:
            _executemany(cursor, rows)
        scopes_changed(trades_scope(run_id) for run_id in {row[0] for row in rows})


def _executemany(cursor, rows: list[tuple]) -> None:
    sql = _insert_sql(1, "%s")
    for start in range(0, len(rows), TRADE_BATCH):
        cursor.executemany(sql, rows[start : start + TRADE_BATCH])


# MariaDB: rows per INSERT statement (about 150 bytes each, far below max_allowed_packet).
MYSQL_ROWS_PER_INSERT = 1000


def _mysql_insert(cursor, rows: list[tuple]) -> None:
    head = _insert_sql(0, "")  # "INSERT INTO trades (...) VALUES "
    quoted: dict[str, str] = {}
    for start in range(0, len(rows), MYSQL_ROWS_PER_INSERT):
        batch = rows[start : start + MYSQL_ROWS_PER_INSERT]
        try:
            values = _mysql_values(batch, quoted)
        except (TypeError, ValueError):  # not the plain shape (a Decimal, a NaN...): the driver
            _executemany(cursor, batch)
            continue
        cursor.execute(head + values)


def _mysql_values(rows: list[tuple], quoted: dict[str, str]) -> str:
    """The rows as SQL values, each as mysqlclient would quote it: ints in decimal, floats as
    repr with an exponent (a DOUBLE literal, which the DECIMAL columns round as before),
    strings by the connection's own escaping (once per distinct string), None as NULL.
    TypeError or ValueError for a value of any other type, or a float that is not finite."""
    literal = connection.connection.literal

    def text(value: str) -> str:
        if type(value) is not str:
            raise TypeError(f"{type(value).__name__} where a string is expected")
        hit = quoted.get(value)
        if hit is None:
            hit = quoted[value] = literal(value).decode()
        return hit

    return ",".join(
        f"({run:d},{text(market)},{text(side)},{entry_time:d},{_double(entry_price)},{_double(entry_size)},"
        f"{'NULL' if exit_time is None else format(exit_time, 'd')},{_double_or_null(exit_price)},"
        f"{_double_or_null(exit_size)},{_double(realized_pnl)},{_double(fee)},{text(exit_reason)},{_double(funding)})"
        for run, market, side, entry_time, entry_price, entry_size, exit_time, exit_price, exit_size, realized_pnl, fee, exit_reason, funding in rows
    )


def _double(value: float) -> str:
    if type(value) is not float:
        raise TypeError(f"{type(value).__name__} where a float is expected")
    text = repr(value)
    if "e" in text:
        return text
    if "n" in text:  # inf, nan
        raise ValueError(f"{text} is not a number the database takes")
    return text + "e0"


def _double_or_null(value: float | None) -> str:
    return "NULL" if value is None else _double(value)


# SQLite: rows per INSERT statement (13 parameters each, far below its 32,766 limit); about
# 100 is where the measured rate stops rising.
SQLITE_ROWS_PER_INSERT = 100


def _insert_sql(rows: int, placeholder: str) -> str:
    quote = connection.ops.quote_name
    one = f"({', '.join([placeholder] * len(TRADE_COLUMNS))})"
    return (
        f"INSERT INTO {quote(Trade._meta.db_table)} ({', '.join(quote(c) for c in TRADE_COLUMNS)}) "
        f"VALUES {', '.join([one] * rows)}"
    )


def _sqlite_insert(rows: list[tuple]) -> None:
    """Multi-row INSERTs in the current transaction, through the sqlite3 cursor itself (no
    per-statement placeholder rewriting: `?` placeholders are written here)."""
    width, step = len(TRADE_COLUMNS), SQLITE_ROWS_PER_INSERT
    flat = list(chain.from_iterable(rows))
    cursor = connection.connection.cursor()
    try:
        full = len(rows) // step * step
        if full:
            sql = _insert_sql(step, "?")
            for start in range(0, full * width, step * width):
                cursor.execute(sql, flat[start : start + step * width])
        if full < len(rows):
            cursor.execute(_insert_sql(len(rows) - full, "?"), flat[full * width :])
    finally:
        cursor.close()


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
    path = _trades_path(session.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    by_run: dict[int, list] = {}
    for row in rows:
        by_run.setdefault(row[0], []).append(row)
    runs = [
        {"config_hash": run.config_hash, "params": run.params, "trades": _trade_dicts(by_run.get(run.pk, []))}
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
    i
    for i, c in enumerate(TRADE_COLUMNS)
    if c not in ("run_id", "market", "side", "entry_time", "exit_time", "exit_reason")
}


def _trades_path(session_id: str) -> Path:
    return data_path("trades", f"trades_{session_id}.json")


def _parts_dir(session_id: str) -> Path:
    return data_path("trades", f"parts_{session_id}")


# _trade_dicts names the columns in this order.
assert TRADE_COLUMNS[1:] == (
    "market", "side", "entry_time", "entry_price", "entry_size", "exit_time", "exit_price",
    "exit_size", "realized_pnl", "fee", "exit_reason", "funding",
)  # fmt: skip


def _trade_dicts(rows) -> list[dict]:
    """Rows as `trades_insert` takes them, as the trades file's objects. A dict display with
    the keys written out builds them in half the time of dict(zip(...)) (a sweep: millions)."""
    return [
        {
            "market": market,
            "side": side,
            "entry_time": entry_time,
            "entry_price": entry_price,
            "entry_size": entry_size,
            "exit_time": exit_time,
            "exit_price": exit_price,
            "exit_size": exit_size,
            "realized_pnl": realized_pnl,
            "fee": fee,
            "exit_reason": exit_reason,
            "funding": funding,
        }
        for _run, market, side, entry_time, entry_price, entry_size, exit_time, exit_price, exit_size, realized_pnl, fee, exit_reason, funding in rows
    ]


def _run_part(config_hash: str, params: dict, rows) -> bytes:
    return orjson.dumps({"config_hash": config_hash, "params": params, "trades": _trade_dicts(rows)})


def trades_part_write(
    *, session_id: str, run_id: int, config_hash: str, params: dict, rows: list[tuple]
) -> None:
    """One run's part of the session's trades file (rows as `trades_insert` took them)."""
    directory = _parts_dir(session_id)
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / f"{run_id}.json.tmp"
    tmp.write_bytes(_run_part(config_hash, params, rows))
    os.replace(tmp, directory / f"{run_id}.json")


def trades_file_assemble(*, session: Session, copy_of: Session | None = None) -> str:
    """`trades_<id>.json` of a sweep from its runs' parts (see above). `copy_of`: a session
    whose runs this one copied, every one, in the same order (a cloned sweep, all reused):
    its file is this one's but for the session id, so it is copied as it is."""
    path = _trades_path(session.pk)
    path.parent.mkdir(parents=True, exist_ok=True)
    head = b'{"session_id":' + orjson.dumps(session.pk) + b',"runs":['
    tmp = path.with_suffix(".json.tmp")
    if copy_of is None or not _copied_file(copy_of, head, tmp):
        runs = list(session.runs.order_by("id").values_list("pk", "config_hash", "params"))
        parts_dir = _parts_dir(session.pk)
        parts = {pk: parts_dir / f"{pk}.json" for pk, _h, _p in runs}
        from_table = _trade_rows([pk for pk, _h, _p in runs if not parts[pk].is_file()])
        # Streamed: the parts (hundreds of MB for a sweep) are copied file to file by the
        # kernel, never read into Python.
        with tmp.open("wb") as out:
            out.write(head)
            for index, (pk, config_hash, params) in enumerate(runs):
                if index:
                    out.write(b",")
                if pk in from_table or not parts[pk].is_file():
                    out.write(_run_part(config_hash, params, from_table.get(pk, [])))
                else:
                    _copy_into(out, parts[pk])
            out.write(b"]}")
    os.replace(tmp, path)
    shutil.rmtree(_parts_dir(session.pk), ignore_errors=True)
    Session.objects.filter(pk=session.pk).update(trades_file=str(path))
    return str(path)


def _copy_into(out, source: Path, offset: int = 0) -> None:
    """The bytes of `source` from `offset` on, appended to the open file `out`."""
    out.flush()
    with source.open("rb") as src:
        left = os.fstat(src.fileno()).st_size - offset
        while left > 0:
            sent = os.sendfile(out.fileno(), src.fileno(), offset, left)
            if sent == 0:
                break
            offset, left = offset + sent, left - sent
    out.seek(0, os.SEEK_END)


def _copied_file(source: Session, head: bytes, tmp: Path) -> bool:
    """`tmp` written as the source's file with this session's head; False when the source has
    no file of that shape."""
    source_file = stored_data_path(source.trades_file)  # never a file outside DATA_ROOT
    if source_file is None or not source_file.is_file():
        return False
    source_head = b'{"session_id":' + orjson.dumps(source.pk) + b',"runs":['
    with source_file.open("rb") as src:
        if src.read(len(source_head)) != source_head:
            return False
    with tmp.open("wb") as out:
        out.write(head)
        _copy_into(out, source_file, len(source_head))
    return True


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
