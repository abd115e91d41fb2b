"""Reads at scale, over HTTP through the production server (gunicorn, DEBUG=false).

100,000 sessions and a run of 1,000,000 trades are bulk-loaded as a migration or an import
would (bulk_create, executemany; never the create service), then each list is requested
REQUESTS times through gunicorn (2 workers x 4 threads, as bin/run) on a kept-alive
connection, and p50/p95 of the whole round trip are printed beside the targets: the API's
sessions list (default, status+type, market, strategy, sort by pnl, q, the 1,000th page by
cursor and, for the before/after, by offset), a run's trades by cursor (first, middle, last
page) and the History tab's full page. `--plans` prints the database's plan of each list query.

    DATABASE_URL=sqlite:///var/bench/reads.sqlite3 python -m bench.reads
    DATABASE_URL=mysql://root@127.0.0.1:3306/trading_bench_reads python -m bench.reads
"""

from __future__ import annotations

import http.client
import os
import random
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode

from bench.common import Timer, percentile, setup_django
from bench.server import collectstatic, free_port, gunicorn_start, stop

ROOT = Path(__file__).resolve().parent.parent
SESSIONS = int(os.environ.get("BENCH_SESSIONS", 100_000))
TRADES = int(os.environ.get("BENCH_TRADES", 1_000_000))
REQUESTS = int(os.environ.get("BENCH_REQUESTS", 100))
PAGE = 50
TARGET_MS, HISTORY_TARGET_MS = 30.0, 60.0
# The "before" (p95 ms, make bench at 100,000 sessions, before keyset/full-text/indexes).
BEFORE = {
    "mysql": {"default": 40, "status+type": 91, "sort by pnl": 50, "q": 654, "page 1000": 441},
    "sqlite": {"default": 14, "status+type": 62, "sort by pnl": 14, "q": 127, "page 1000": 179},
}
SERVER_ENV = {
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
}


def fill_sessions(user) -> None:
    from sessions_app.models import Session

    rng = random.Random(7)
    markets = ["XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD"]
    types = ["test", "backtest", "scraper"]
    statuses = ["completed", "stopped", "failed", "completed", "stopped"]
    strategies = {"test": "TestBot", "backtest": "SmaCross", "scraper": "MarketScraper"}
    now = datetime.now(tz=UTC)
    batch = []
    for i in range(SESSIONS):
        kind = types[i % 3]
        created = now - timedelta(minutes=i * 3)
        batch.append(
            Session(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                name=f"Bench {kind} #{i}",
                notes=rng.choice([None, "momentum idea", "mean reversion", "tuned fees"]),
                type=kind,
                market=markets[i % 5],
                exchange="sim",
                strategy=strategies[kind],
                strategy_params={},
                status=statuses[i % 5],
                created_at=created,
                started_at=created,
                stopped_at=created + timedelta(minutes=30),
                trade_count=rng.randint(0, 500),
                total_pnl=round(rng.uniform(-1000, 1000), 2),
                win_rate=round(rng.uniform(0, 100), 2),
                created_by=user,
            )
        )
        if len(batch) == 5000:
            Session.objects.bulk_create(batch)
            batch = []
    if batch:
        Session.objects.bulk_create(batch)


def fill_trades(user):
    """One completed backtest whose only run holds TRADES trades (executemany batches)."""
    from sessions_app.models import Run, Session
    from sessions_app.services.trades import trades_insert

    session = Session.objects.create(
        name="Bench million trades",
        type="backtest",
        market="XBTUSD",
        exchange="sim",
        strategy="SmaCross",
        status="completed",
        created_at=datetime(2020, 1, 1, tzinfo=UTC),  # far down the lists: not in their pages
        created_by=user,
        trade_count=TRADES,
    )
    run = Run.objects.create(session=session, config_hash="b" * 12, status="completed", trade_count=TRADES)
    start, batch = 1_600_000_000, []
    for i in range(TRADES):
        entry = start + i * 60
        batch.append(
            (
                run.pk,
                "XBTUSD",
                "long" if i % 2 else "short",
                entry,
                30000.5,
                1,
                entry + 30,
                30001,
                1,
                0.5,
                0.01,
                "signal",
                0.0,
            )
        )
        if len(batch) == 50_000:
            trades_insert(batch)
            batch = []
    if batch:
        trades_insert(batch)
    return session, run


def keyed_cursor(list_name: str, rows, *, keyset, sort: str, offset: int) -> str:
    """The cursor a client holds after walking to `offset` (the key of the row before it)."""
    from sessions_app.selectors import cursor_dumps

    row = rows.order_by(*keyset.order_by())[offset - 1]
    return cursor_dumps(keyset.key_of(row), list_name=list_name, sort=sort, descending=keyset.descending)


def login_cookie(user) -> str:
    """A logged-in browser's session cookie, made as the login view makes it."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore as DbStore
    from django.utils.module_loading import import_string

    store = import_string(f"{settings.SESSION_ENGINE}.SessionStore") if settings.SESSION_ENGINE else DbStore
    session = store()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def production_server() -> tuple[int, subprocess.Popen]:
    """gunicorn as `make run` serves (DEBUG off, hashed static files) on a free port."""
    env = {**os.environ, **SERVER_ENV, "DJANGO_SETTINGS_MODULE": "config.settings"}
    collectstatic(env)
    port = free_port()
    return port, gunicorn_start(port, env=env, args=("--error-logfile", "-", "--log-level", "warning"))


def measure(port: int, path: str, headers: dict[str, str], requests: int) -> tuple[float, float]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    samples = []
    for i in range(requests + 2):
        with Timer() as t:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read()
        assert response.status == 200, (path, response.status, body[:300])
        if i >= 2:  # the first two warm the worker processes
            samples.append(t.seconds * 1000)
    connection.close()
    return percentile(samples, 50), percentile(samples, 95)


def plans(queries: dict[str, str]) -> None:
    """Each API list query's plan, as the database answers EXPLAIN."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from sessions_app.models import Session

    client = APIClient()
    client.force_authenticate(Session.objects.first().created_by)
    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    for label, path in queries.items():
        with CaptureQueriesContext(connection) as captured:
            client.get(path)
        pages = [
            q["sql"]
            for q in captured.captured_queries
            if " LIMIT " in q["sql"]
            and any(f"FROM `{t}`" in q["sql"].replace('"', "`") for t in ("sessions", "trades"))
        ]
        if not pages:
            continue
        with connection.cursor() as cursor:
            cursor.execute(explain + pages[0])
            rows = cursor.fetchall()
        print(f"  {label}:")
        for row in rows:
            print("     ", " | ".join(str(v) for v in row))


def main() -> None:
    os.environ.update(SERVER_ENV)  # this process reads (plans, cursors) as the server does
    # BENCH_REUSE=1: keep the database a previous run loaded (the figures again, without the load).
    reuse = os.environ.get("BENCH_REUSE") == "1"
    setup_django(fresh=not reuse)
    from django.contrib.auth.models import User
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from sessions_app import selectors
    from sessions_app.models import Session, Trade

    vendor = connection.vendor
    if reuse and User.objects.filter(username="bench").exists():
        user = User.objects.get(username="bench")
        session = Session.objects.get(name="Bench million trades")
        run = session.runs.get()
        print(f"{vendor}: reusing {Session.objects.count():,} sessions and {run.trades.count():,} trades")
    else:
        user = User.objects.create_superuser("bench", "", "bench-password-1")
        with Timer() as t:
            fill_sessions(user)
        print(f"{vendor}: bulk-loaded {SESSIONS:,} sessions in {t.seconds:.1f} s")
        with Timer() as t:
            session, run = fill_trades(user)
        print(f"{vendor}: loaded {TRADES:,} trades in one run (executemany) in {t.seconds:.1f} s")
    # No ANALYZE TABLE: the reads are measured on the statistics InnoDB keeps by itself after
    # a bulk load, as an installation that imported its history would have them.

    everything = Session.objects.all()
    default_keyset = selectors.session_keyset(sort="created_at", descending=True)
    page_1000 = keyed_cursor(
        "sessions",
        everything,
        keyset=default_keyset,
        sort="created_at",
        offset=min(999 * PAGE, SESSIONS - PAGE),
    )
    trades = Trade.objects.filter(run=run)
    trade_cursors = {
        where: keyed_cursor(
            "trades", trades, keyset=selectors.TRADES_API_ORDER, sort="entry_time", offset=offset
        )
        for where, offset in (("middle", TRADES // 2), ("last", TRADES - PAGE))
    }
    api = "/api/sessions?"
    queries = {
        "default": api,
        "status+type": api + "status=completed,stopped&type=backtest",
        "market": api + "market=ETHUSD",
        "strategy": api + "strategy=SmaCross",
        "sort by pnl": api + "sort=total_pnl:desc",
        "q": api + urlencode({"q": "#12345"}),
        "page 1000 (cursor)": api + urlencode({"cursor": page_1000}),
        "page 1000 (offset)": api + urlencode({"offset": min(999 * PAGE, SESSIONS - PAGE)}),
        "trades first": f"/api/sessions/{session.pk}/trades",
        "trades middle": f"/api/sessions/{session.pk}/trades?"
        + urlencode({"cursor": trade_cursors["middle"]}),
        "trades last": f"/api/sessions/{session.pk}/trades?" + urlencode({"cursor": trade_cursors["last"]}),
    }
    if "--plans" in sys.argv:
        plans(queries)
    token = Token.objects.get_or_create(user=user)[0].key
    cookie = login_cookie(user)
    port, server = production_server()
    try:
        print(f"\n{vendor}, over HTTP through gunicorn (DEBUG=false), {REQUESTS} requests each:")
        print(f"{'query':<22} {'p50 ms':>8} {'p95 ms':>8} {'target':>8} {'before p95':>11}")
        before = BEFORE.get(vendor, {})
        for label, path in queries.items():
            p50, p95 = measure(port, path, {"Authorization": f"Token {token}"}, REQUESTS)
            was = (
                before.get(label.replace(" (offset)", ""), "")
                if "cursor" not in label
                else before.get("page 1000", "")
            )
            target = "" if "offset" in label else f"< {TARGET_MS:.0f}"
            flag = "" if "offset" in label or p95 < TARGET_MS else "  OVER"
            print(f"{label:<22} {p50:8.1f} {p95:8.1f} {target:>8} {was!s:>11}{flag}")
        for label, path in (("History tab", "/history/"), ("History page 2 (Next)", None)):
            if path is None:
                filters = selectors.SessionFilters(statuses=("completed", "stopped", "failed"))
                first = selectors.history_page(
                    filters=filters, sort="created_at", descending=True, number=1, size=20
                )
                nxt = keyed_cursor(
                    "history",
                    selectors.session_filter(filters=filters),
                    keyset=default_keyset,
                    sort="created_at",
                    offset=20,
                )
                path = "/history/?" + urlencode({"period": "all", "after": nxt, "page": 2})
                assert first.items
            else:
                path += "?period=all"
            p50, p95 = measure(port, path, {"Cookie": cookie}, REQUESTS)
            flag = "" if p95 < HISTORY_TARGET_MS else "  OVER"
            print(f"{label:<22} {p50:8.1f} {p95:8.1f} {'< 60':>8} {'':>11}{flag}")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
