"""API list latency (server time through the full Django stack) with 100,000 sessions."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from bench.common import Timer, percentile, setup_django

SESSIONS = 100_000
REQUESTS = 200


def fill() -> None:
    from django.contrib.auth.models import User

    from sessions_app.models import Session

    random.seed(7)
    markets = ["XBTUSD", "ETHUSD", "SOLUSD", "XRPUSD", "DOGEUSD"]
    types = ["test", "backtest", "scraper"]
    statuses = ["completed", "stopped", "failed", "completed", "stopped"]
    strategies = {"test": "TestBot", "backtest": "SmaCross", "scraper": "MarketScraper"}
    now = datetime.now(tz=UTC)
    user = User.objects.create_superuser("bench", "", "bench-password-1")
    batch = []
    for i in range(SESSIONS):
        kind = types[i % 3]
        created = now - timedelta(minutes=i * 3)
        batch.append(
            Session(
                id=str(uuid.UUID(int=random.getrandbits(128))),
                name=f"Bench {kind} #{i}",
                type=kind,
                market=markets[i % 5],
                exchange="sim",
                strategy=strategies[kind],
                strategy_params={},
                status=statuses[i % 5],
                created_at=created,
                started_at=created,
                stopped_at=created + timedelta(minutes=30),
                trade_count=random.randint(0, 500),
                total_pnl=round(random.uniform(-1000, 1000), 2),
                win_rate=round(random.uniform(0, 100), 2),
                created_by=user,
            )
        )
        if len(batch) == 5000:
            Session.objects.bulk_create(batch)
            batch = []
    if batch:
        Session.objects.bulk_create(batch)
    return user


def main() -> None:
    setup_django(fresh=True)
    from django.db import connection
    from rest_framework.test import APIClient

    with Timer() as t:
        user = fill()
    print(f"{connection.vendor}: inserted {SESSIONS:,} sessions in {t.seconds:.1f} s")
    client = APIClient()
    client.force_authenticate(user)
    queries = {
        "default (newest 50)": "/api/sessions",
        "status+type filter": "/api/sessions?status=completed,stopped&type=backtest",
        "sort by pnl": "/api/sessions?sort=total_pnl:desc",
        "search q": "/api/sessions?q=%2312345",
        "page 1000 of 50": "/api/sessions?offset=50000&limit=50",
    }
    print(f"{'query':<24} {'p50 ms':>8} {'p95 ms':>8}")
    for label, path in queries.items():
        client.get(path)  # warm
        samples = []
        for _ in range(REQUESTS if "q=" not in path else REQUESTS // 4):
            with Timer() as t:
                response = client.get(path)
            assert response.status_code == 200, response.content[:200]
            samples.append(t.seconds * 1000)
        print(f"{label:<24} {percentile(samples, 50):8.1f} {percentile(samples, 95):8.1f}")


if __name__ == "__main__":
    main()
