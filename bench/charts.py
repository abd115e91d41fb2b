"""The chart endpoint: a year of 1m candles aggregated to 2,000 points, with the
run's trades as markers; target p95 < 50 ms.

Two sources: the archive (365 daily files of 1,440 candles, as scrapers record them) and the
`sim` exchange (computed); plus a zoomed-in month of the archive. Each is measured twice: the
server's time in this process, calling the WSGI application of config/wsgi.py as gunicorn
calls it (every middleware, a logged-in browser's session cookie; the process prepared as
every served one, config.serving.freeze_loaded), with its CPU time beside it; and the whole
round trip over HTTP through the production server (gunicorn, 2 workers x 4 threads,
DEBUG=false, as bin/run) on a kept-alive connection, as a browser asks.
"""

import json
import os
import time

import numpy as np

from bench.common import Timer, percentile, setup_django
from bench.reads import SERVER_ENV, login_cookie, measure, production_server
from bench.server import stop, wsgi_get

START = 1_704_067_200  # 2024-01-01 00:00 UTC
DAYS = 365
TRADES = 2_000
REQUESTS = 100


def _archive_year(root: str) -> int:
    from bots import archive
    from bots.candles import Candles

    times = np.arange(START, START + DAYS * 86_400, 60, dtype=np.int64)
    rng = np.random.default_rng(11)
    close = 60_000 * np.exp(np.cumsum(rng.normal(0, 0.0006, len(times))))
    candles = Candles(times, close, close * 1.0005, close * 0.9995, close, rng.uniform(1, 50, len(times)))
    archive.write(root, "bitmex", "XBTUSD", "1m", candles)
    return len(times)


def _backtest(user, exchange: str):
    from sessions_app import selectors, services
    from sessions_app.models import Session, Trade

    session = services.session_create(
        user=user,
        data={
            "type": "backtest",
            "name": f"Chart bench {exchange}",
            "exchange": exchange,
            "market": "XBTUSD",
            "strategy": "TestBot",
            "timeframe": "1m",
            "range_start": START,
            "range_end": START + DAYS * 86_400,
        },
    )
    run = selectors.session_best_run(session)
    step = DAYS * 86_400 // TRADES
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market="XBTUSD",
            side="long" if k % 2 else "short",
            entry_time=START + k * step,
            entry_price="60000",
            entry_size="100",
            exit_time=START + k * step + 1800,
            exit_price="60010",
            exit_size="100",
            realized_pnl="0.00001",
            fee="0.000001",
        )
        for k in range(TRADES)
    )
    curve = [[START + k * (DAYS * 86_400 // 2000), 1 + k / 1e5] for k in range(2000)]
    services.session_results_save(session=session, run=run, metrics={"total_pnl": 0.02}, equity=curve)
    return Session.objects.get(pk=session.pk)


def main() -> None:
    os.environ.update(SERVER_ENV)
    setup_django(fresh=True)
    from django.conf import settings
    from django.contrib.auth.models import User

    with Timer() as t:
        candles = _archive_year(str(settings.DATA_ROOT))
    print(f"archive: {candles:,} 1m candles over {DAYS} days written in {t.seconds:.1f} s")
    user = User.objects.create_superuser("chart-bench", "", "bench-password-1")
    archived, computed = _backtest(user, "bitmex"), _backtest(user, "sim")
    cookie = login_cookie(user)
    from config.wsgi import application  # loads, warms and freezes as every served process

    month = f"from={START + 180 * 86_400}&to={START + 210 * 86_400}"
    queries = {
        "archive, year -> 2,000": (archived, "max_points=2000"),
        "sim, year -> 2,000": (computed, "max_points=2000"),
        "archive, a month zoomed": (archived, f"{month}&max_points=2000"),
    }
    paths = {
        label: f"/api/sessions/{session.pk}/chart?{query}" for label, (session, query) in queries.items()
    }
    # Wall time is the figure; CPU time beside it tells a loaded machine from a slow request.
    print(f"\nserver time in-process (config.wsgi.application, every middleware), {REQUESTS} requests each:")
    print(
        f"{'chart (1m, 2,000 trades)':<26} {'candles':>8} {'markers':>8} {'p50 ms':>8} {'p95 ms':>8}"
        f" {'cpu p50':>8} {'cpu p95':>8}"
    )
    for label, path in paths.items():
        status, first = wsgi_get(
            application, path, {"HTTP_COOKIE": cookie}
        )  # warm: the archive files' page cache
        assert status.startswith("200"), (status, first[:200])
        body = json.loads(first)
        samples, cpu = [], []
        for _ in range(REQUESTS):
            began_cpu = time.process_time()
            with Timer() as t:
                status, answer = wsgi_get(application, path, {"HTTP_COOKIE": cookie})
            cpu.append((time.process_time() - began_cpu) * 1000)
            assert status.startswith("200") and answer == first, (status, answer[:200])
            samples.append(t.seconds * 1000)
        print(
            f"{label:<26} {len(body['candles']):>8,} {len(body['markers']):>8,} "
            f"{percentile(samples, 50):8.1f} {percentile(samples, 95):8.1f}"
            f" {percentile(cpu, 50):8.1f} {percentile(cpu, 95):8.1f}"
        )
    port, server = production_server()
    try:
        print(f"\nover HTTP through gunicorn (DEBUG=false, kept-alive connection), {REQUESTS} requests each:")
        print(f"{'chart (1m, 2,000 trades)':<26} {'p50 ms':>8} {'p95 ms':>8}")
        for label, path in paths.items():
            p50, p95 = measure(port, path, {"Cookie": cookie}, REQUESTS)
            print(f"{label:<26} {p50:8.1f} {p95:8.1f}")
    finally:
        stop(server)
    print("target: p95 < 50 ms for a year of 1m candles aggregated to 2,000 points")


if __name__ == "__main__":
    main()
