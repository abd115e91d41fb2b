"""GET /api/runs with 100,000 runs (bulk-loaded), over HTTP (gunicorn on a free port): p50/p95
at cursor depths of 1, 100 and 1,000 pages (50 runs a page), for a few sorts and filters."""

import http.client
import json
import os
import random
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

from bench.common import Timer, percentile, setup_django
from bench.server import free_port, gunicorn_start, stop

ROOT = Path(__file__).resolve().parent.parent
SESSIONS, RUNS_PER_SESSION = 1_000, 100
REQUESTS = 100
DEPTHS = (1, 100, 1_000)
QUERIES = {
    "default (newest first)": "",
    "sort=total_pnl:desc": "sort=total_pnl:desc",
    "status=completed, sort=sharpe:asc": "status=completed&sort=sharpe:asc",
}


def fill():
    """1,000 completed backtests of 100 runs each, over 5 markets and 3 timeframes."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    from sessions_app.models import Run, Session

    random.seed(11)
    user = User.objects.create_superuser("bench", "", "bench-password-1")
    markets = ["XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD"]
    timeframes = ["1m", "5m", "1h"]
    now = datetime.now(tz=UTC)
    sessions = []
    for i in range(SESSIONS):
        created = now - timedelta(minutes=i * 7)
        sessions.append(
            Session(
                id=str(uuid.UUID(int=random.getrandbits(128))),
                name=f"Bench sweep #{i}",
                type="backtest",
                market=markets[i % 5],
                exchange="sim",
                strategy="SmaCross",
                timeframe=timeframes[i % 3],
                strategy_params={},
                status="completed",
                created_at=created,
                started_at=created,
                stopped_at=created + timedelta(minutes=3),
                range_start=1_735_689_600,
                range_end=1_735_689_600 + 30 * 86_400,
                created_by=user,
            )
        )
    Session.objects.bulk_create(sessions, batch_size=1000)
    batch = []
    statuses = ["completed"] * 8 + ["failed", "stopped"]
    for session in sessions:
        for k in range(RUNS_PER_SESSION):
            batch.append(
                Run(
                    session_id=session.pk,
                    config_hash=uuid.UUID(int=random.getrandbits(128)).hex[:12],
                    params={"n1": k % 10, "n2": 60 + k // 10},
                    status=random.choice(statuses),
                    started_at=session.started_at,
                    stopped_at=session.stopped_at,
                    worker="bench@host:1",
                    pid=1,
                    trade_count=random.randint(0, 900),
                    total_pnl=round(random.uniform(-5000, 5000), 4),
                    win_rate=round(random.uniform(0, 100), 2),
                    max_drawdown=round(random.uniform(0, 60), 4),
                    sharpe=round(random.uniform(-3, 3), 4),
                    metrics={"total_pnl": 0.0},
                )
            )
            if len(batch) == 10_000:
                Run.objects.bulk_create(batch)
                batch = []
    if batch:
        Run.objects.bulk_create(batch)
    return Token.objects.create(user=user).key


class Api:
    """One keep-alive HTTP connection to the server, token-authenticated."""

    def __init__(self, port: int, token: str):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}

    def get(self, path: str) -> dict:
        self.connection.request("GET", path, headers=self.headers)
        response = self.connection.getresponse()
        body = response.read()
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status} {body[:300]!r}")
        return json.loads(body)


def cursors_at(api: Api, query: str) -> dict[int, str | None]:
    """The cursor that opens page 1, 100 and 1,000 of `query`, found by paging through."""
    found: dict[int, str | None] = {1: None}
    cursor = None
    for page in range(2, max(DEPTHS) + 1):
        body = api.get(f"/api/runs?limit=50&{query}" + (f"&cursor={quote(cursor)}" if cursor else ""))
        cursor = body["next_cursor"]
        if cursor is None:
            raise SystemExit(f"{query or 'default'}: only {page - 1} pages")
        if page in DEPTHS:
            found[page] = cursor
    return found


def main() -> None:
    setup_django(fresh=True)
    from django.db import connection

    with Timer() as t:
        token = fill()
    print(f"{connection.vendor}: inserted {SESSIONS * RUNS_PER_SESSION:,} runs in {t.seconds:.1f} s")
    connection.close()
    port = free_port()
    server = gunicorn_start(port, env=os.environ.copy())
    try:
        api = Api(port, token)
        print(f"{'GET /api/runs, 50 a page, over HTTP':<36} {'page':>6} {'p50 ms':>8} {'p95 ms':>8}")
        worst = 0.0
        for label, query in QUERIES.items():
            cursors = cursors_at(api, query)
            for depth in DEPTHS:
                path = f"/api/runs?limit=50&{query}" + (
                    f"&cursor={quote(cursors[depth])}" if cursors[depth] else ""
                )
                api.get(path)  # warm
                samples = []
                for _ in range(REQUESTS):
                    with Timer() as t:
                        body = api.get(path)
                    assert len(body["runs"]) == 50
                    samples.append(t.seconds * 1000)
                p95 = percentile(samples, 95)
                worst = max(worst, p95)
                print(f"{label:<36} {depth:>6} {percentile(samples, 50):8.1f} {p95:8.1f}")
        print(f"{connection.vendor}: worst p95 {worst:.1f} ms (target < 30 ms at any depth)")
    finally:
        stop(server)


if __name__ == "__main__":
    main()
