"""Server time of the Running tab's polls with 10 running sessions (live progress in the cache).

Each running row polls its partial every 2 s; the whole list is fetched on changes. Both are
measured through the full Django stack (middleware, auth, templates) with the test client.
"""

from django.db import transaction

from bench.common import Timer, percentile, setup_django

ROUNDS = 30


def main() -> None:
    setup_django(fresh=True)
    from django.contrib.auth.models import User
    from django.core.cache import cache
    from django.test import Client

    from sessions_app import services
    from sessions_app.models import Session
    from sessions_app.selectors import progress_key

    user = User.objects.create_superuser("bench", "", "bench-password-1")
    sessions = []
    for i in range(10):
        kind = "backtest" if i % 2 else "test"
        data = {"type": kind, "market": "XBTUSD", "strategy": "TestBot"}
        if kind == "backtest":
            data.update(range_start=1_735_689_600, range_end=1_767_225_600)
        session = services.session_create(user=user, data=data)
        with transaction.atomic():  # started, claimed as a worker would: nothing is queued
            Session.objects.filter(pk=session.pk).update(status="running", worker="bench:1", pid=1)
        cache.set(
            progress_key(session.pk),
            {
                "done": 1234 * (i + 1),
                "total": 525_600,
                "percent": 0.2 * (i + 1),
                "trade_count": 15 + i,
                "total_pnl": 0.00245 * i,
                "win_rate": 60.0,
                "currency": "XBT",
                "metrics": {},
            },
            600,
        )
        sessions.append(session)
    client = Client(HTTP_HX_REQUEST="true")
    client.force_login(user)
    row_samples, list_samples = [], []
    for _ in range(ROUNDS):
        for session in sessions:
            with Timer() as t:
                response = client.get(f"/sessions/{session.pk}/row/?was=running")
            assert response.status_code == 200 and b"every 2s" in response.content
            row_samples.append(t.seconds * 1000)
        with Timer() as t:
            response = client.get("/")
        assert response.status_code == 200
        list_samples.append(t.seconds * 1000)
    print(
        f"running row poll (10 running sessions, {len(row_samples)} polls): "
        f"p50 {percentile(row_samples, 50):.1f} ms, p95 {percentile(row_samples, 95):.1f} ms"
    )
    print(
        f"Running tab list partial ({ROUNDS} fetches): "
        f"p50 {percentile(list_samples, 50):.1f} ms, p95 {percentile(list_samples, 95):.1f} ms"
    )


if __name__ == "__main__":
    main()
