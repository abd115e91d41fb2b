"""Every list query reads its order from an index: checked with EXPLAIN.

A few thousand sessions and trades are bulk-loaded (the databases plan by their statistics),
then the page query each list form runs is captured and explained. It must read `sessions`
(or `trades`) through an index, never by a full scan, and never sort the rows: MariaDB's
EXPLAIN shows no `ALL` access and no filesort; SQLite's no bare `SCAN sessions` and no
`USE TEMP B-TREE FOR ORDER BY`. When an index is named, it is that one. `q` reads the full-text
index (InnoDB FULLTEXT, the FTS5 table) and sorts only its matches.
"""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from sessions_app import selectors
from sessions_app.list_totals import SESSIONS, scopes_changed, trades_scope
from sessions_app.models import FINISHED, Run, Session, Trade
from sessions_app.selectors import SESSION_SORTS, PageKey, SessionFilters
from sessions_app.services.trades import trades_insert

# Each test reads in a transaction rolled back after it; the rows are the module's (`loaded`).
pytestmark = pytest.mark.django_db

ROWS = 3000
NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def loaded(django_db_setup, django_db_blocker):
    """The rows every plan here is read over, loaded and committed once for the module (the
    tests only read them; ANALYZE TABLE commits on MariaDB anyway), deleted after it."""
    with django_db_blocker.unblock():
        run = _load()
        try:
            yield run
        finally:
            runs = list(Run.objects.filter(session=run.session_id).values_list("pk", flat=True))
            Trade.objects.filter(run__in=runs).delete()
            Run.objects.filter(pk__in=runs).delete()
            Session.objects.filter(name__startswith="Plan ").delete()
            scopes_changed([SESSIONS, *(trades_scope(pk) for pk in runs)])


def _load() -> Run:
    rng = random.Random(3)
    Session.objects.bulk_create(
        [
            Session(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                name=f"Plan {i}",
                notes=rng.choice([None, "momentum", "fees"]),
                type=("test", "backtest", "scraper")[i % 3],
                market=("XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD")[i % 5],
                strategy=("TestBot", "SmaCross", "MarketScraper")[i % 3],
                status=("completed", "stopped", "failed", "completed", "running")[i % 5],
                created_at=NOW - timedelta(minutes=i),
                started_at=NOW - timedelta(minutes=i),
                stopped_at=NOW - timedelta(minutes=i - 5),
                trade_count=rng.randint(0, 100),
                total_pnl=Decimal(rng.randint(-10_000, 10_000)) / 100,
                win_rate=Decimal(rng.randint(0, 10_000)) / 100,
            )
            for i in range(ROWS)
        ],
        batch_size=1000,
    )
    session = Session.objects.first()
    run = Run.objects.create(session=session, config_hash="p" * 12)
    other = Run.objects.create(session=session, config_hash="q" * 12)
    trades_insert(
        [
            (r.pk, "XBTUSD", "long", 1_700_000_000 + i * 60, 1, 1, None, None, None, 0, 0, "signal", 0)
            for r in (run, other)
            for i in range(ROWS)
        ]
    )
    if connection.vendor == "mysql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE TABLE sessions, trades")
            cursor.fetchall()
    return run


def page_query(read) -> str:
    """The SQL of the page (the query with a LIMIT on sessions or trades) `read()` runs."""
    with CaptureQueriesContext(connection) as captured:
        read()
    quoted = [(q["sql"], q["sql"].replace('"', "`")) for q in captured.captured_queries]
    pages = [
        sql for sql, q in quoted if " LIMIT " in sql and ("FROM `sessions`" in q or "FROM `trades`" in q)
    ]
    assert pages, [q["sql"][:200] for q in captured.captured_queries]
    return pages[0]


def plan(sql: str) -> list[dict]:
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("EXPLAIN QUERY PLAN " + sql)
            return [{"detail": row[3]} for row in cursor.fetchall()]
        cursor.execute("EXPLAIN " + sql)
        columns = [c[0] for c in cursor.description]
        return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


# InnoDB appends the primary key to every index: its idx_status and idx_type are
# (status, id) and (type, id) already, and MariaDB may well read those.
SAME_ON_INNODB = {"idx_s_status_id": "idx_status", "idx_s_type_id": "idx_type"}


def assert_read_from_index(sql: str, table: str, index: str | None = None) -> None:
    rows = plan(sql)
    shown = "\n".join(str(r) for r in rows)
    if connection.vendor == "sqlite":
        details = [r["detail"] for r in rows]
        assert not any(d.startswith("USE TEMP B-TREE FOR") and "ORDER BY" in d for d in details), shown
        reads = [d for d in details if d.split(" ")[1:2] == [table]]
        assert reads and all("USING" in d for d in reads), shown
        if index:
            assert any(f"INDEX {index}" in d for d in reads), shown
    else:
        reads = [r for r in rows if r["table"] == table]
        assert reads and all(r["type"] != "ALL" and r["key"] for r in reads), shown
        assert not any("filesort" in (r["Extra"] or "") for r in rows), shown
        if index:
            assert any(r["key"] in (index, SAME_ON_INNODB.get(index)) for r in reads), shown


def sessions_page(**kwargs):
    filters = kwargs.pop("filters", SessionFilters())
    return lambda: selectors.session_list(filters=filters, limit=50, **kwargs)


@pytest.mark.parametrize("descending", [True, False], ids=["desc", "asc"])
@pytest.mark.parametrize("sort", sorted(SESSION_SORTS))
def test_every_sort_is_read_from_its_index(loaded, sort, descending):
    sql = page_query(sessions_page(sort=sort, descending=descending))

    assert_read_from_index(sql, "sessions", f"idx_s_{sort}_id")


@pytest.mark.parametrize(
    ("filters", "index"),
    [
        (SessionFilters(statuses=("completed",)), "idx_s_status_created_id"),
        (SessionFilters(types=("backtest",)), "idx_s_type_created_id"),
        (SessionFilters(markets=("ETHUSD",)), "idx_s_market_created_id"),
        (SessionFilters(strategies=("SmaCross",)), "idx_s_strategy_created_id"),
        (SessionFilters(created_after=NOW - timedelta(days=1)), None),
        (SessionFilters(statuses=("completed", "stopped"), types=("backtest",)), None),
        (SessionFilters(statuses=("completed",), types=("backtest",)), None),
        (SessionFilters(statuses=tuple(FINISHED), created_after=NOW - timedelta(days=7)), None),
    ],
    ids=[
        "status",
        "type",
        "market",
        "strategy",
        "created_after",
        "status+type",
        "one status+type",
        "history",
    ],
)
def test_every_filter_pages_newest_first_from_an_index(loaded, filters, index):
    sql = page_query(sessions_page(filters=filters))

    assert_read_from_index(sql, "sessions", index)


@pytest.mark.parametrize("sort", ["created_at", "total_pnl", "name"])
def test_a_deep_keyset_page_starts_inside_the_index(loaded, sort):
    keyset = selectors.session_keyset(sort=sort, descending=True)
    row = Session.objects.order_by(*keyset.order_by())[2000]
    after = keyset.key_of(row)

    sql = page_query(sessions_page(sort=sort, descending=True, after=after))

    assert_read_from_index(sql, "sessions", f"idx_s_{sort}_id")


@pytest.mark.parametrize("where", ["first", "deep"])
def test_a_runs_trades_page_is_read_from_the_trades_index(loaded, where):
    run = loaded
    # The middle of the run: there MariaDB estimates the range past the key and the run's rows
    # alike (half the table), and left to itself reads the run from its first row.
    middle = ROWS // 2
    after = PageKey(value=1_700_000_000 + middle * 60, id=run.trades.order_by("entry_time", "id")[middle].id)

    sql = page_query(
        lambda: selectors.trade_page(run=run, limit=50, after=after if where == "deep" else None)
    )

    assert_read_from_index(sql, "trades", "idx_trade_run_time_id")
    if where == "deep":
        assert_starts_at_the_key(sql, "trades")


def assert_starts_at_the_key(sql: str, table: str) -> None:
    """The page is a range that starts at the cursor's key, not a walk of the run's rows from
    their first: MariaDB's `range` on run_id and entry_time (key_len past run_id's 8 bytes; a
    `ref` on run_id alone reads the run from its start, and its cost grows with the depth),
    SQLite's search on `run_id=? AND entry_time>?`."""
    rows = plan(sql)
    shown = "\n".join(str(r) for r in rows)
    if connection.vendor == "sqlite":
        assert any("run_id=? AND entry_time>?" in r["detail"] for r in rows), shown
    else:
        reads = [r for r in rows if r["table"] == table]
        assert reads and all(r["type"] == "range" and int(r["key_len"]) > 8 for r in reads), shown


def test_q_reads_the_full_text_index(loaded):
    sql = page_query(sessions_page(filters=SessionFilters(q="momentum")))

    details = plan(sql)
    if connection.vendor == "sqlite":
        assert any("VIRTUAL TABLE" in r["detail"] and "sessions_fts" in r["detail"] for r in details), details
    else:
        assert any(r["type"] == "fulltext" for r in details), details
