"""Personas and session factories for the dashboard's view tests.

`operator_client` may act (the operate_session permission), `viewer_client` may only look,
`client` (pytest-django's) is anonymous. Sessions are made by the services; a `running` one
goes through services.session_start with its on-commit queueing captured and never run, so no
task is ever sent.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

DAY = 86_400
HTMX = {"HTTP_HX_REQUEST": "true"}


def _dashboard_user(username: str, *, operate: bool):
    from django.contrib.auth.models import Permission, User

    user = User.objects.create_user(username, f"{username}@example.com", "pw-for-tests-1")
    if operate:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="sessions_app", codename="operate_session")
        )
    return User.objects.get(pk=user.pk)  # fresh: has_perm caches on the instance


@pytest.fixture
def dash_operator(db):
    return _dashboard_user("oscar-operator", operate=True)


@pytest.fixture
def dash_viewer(db):
    return _dashboard_user("vera-viewer", operate=False)


@pytest.fixture
def operator_client(dash_operator):
    from django.test import Client

    client = Client()
    client.force_login(dash_operator)
    client.user = dash_operator
    return client


@pytest.fixture
def viewer_client(dash_viewer):
    from django.test import Client

    client = Client()
    client.force_login(dash_viewer)
    client.user = dash_viewer
    return client


def past_range(days: int = 7) -> dict[str, int]:
    end = (int(time.time()) // DAY - 1) * DAY
    return {"range_start": end - days * DAY, "range_end": end}


@pytest.fixture
def new_session(db, django_capture_on_commit_callbacks) -> Callable[..., Any]:
    """`new_session(status="running", **fields)`: a session made by the services in that state
    (created, running, stopped, completed or failed)."""
    from sessions_app import services
    from sessions_app.models import Status

    def make(*, status: str = "created", user=None, **fields):
        strategy = "MarketScraper" if fields.get("type") == "scraper" else "TestBot"
        data = {"type": "test", "market": "XBTUSD", "strategy": strategy, **fields}
        if data["type"] == "backtest" and "range_start" not in data:
            data.update(past_range())
        session = services.session_create(user=user, data=data)
        if status != Status.CREATED:
            with django_capture_on_commit_callbacks(execute=False):
                session = services.session_start(session=session)
        if status == Status.STOPPED:
            session = services.session_stop(session=session)
        elif status in (Status.COMPLETED, Status.FAILED):
            services.session_finish(
                session=session, status=status, error="Boom." if status == Status.FAILED else None
            )
            session.refresh_from_db()
        return session

    return make


@pytest.fixture
def with_results():
    """Give a session's best run trades, metrics and an equity curve (as a finished run has)."""
    from decimal import Decimal

    from sessions_app import selectors, services
    from sessions_app.models import Trade

    def add(session, *, trades: int = 3, start: int | None = None):
        run = selectors.session_best_run(session)
        start = start or session.range_start or int(time.time()) - 3 * DAY
        rows = []
        for k in range(trades):
            entry = start + k * 3600
            pnl = Decimal("0.001") if k % 2 == 0 else Decimal("-0.0005")
            rows.append(
                Trade(
                    run=run,
                    market=session.market_legs[0],
                    side="long" if k % 2 == 0 else "short",
                    entry_time=entry,
                    entry_price=Decimal("50000") + k,
                    entry_size=100,
                    exit_time=entry + 1800,
                    exit_price=Decimal("50100") + k,
                    exit_size=100,
                    realized_pnl=pnl,
                    fee=Decimal("0.00001"),
                )
            )
        Trade.objects.bulk_create(rows)
        equity = [[start + k * 600, 1 + k * 0.0001] for k in range(50)]
        metrics = {
            "total_pnl": 0.0015,
            "trade_count": trades,
            "win_rate": 66.7,
            "max_drawdown": 3.2,
            "sharpe": 1.25,
            "return_pct": 0.15,
            "profit_factor": 2.5,
            "avg_trade": 0.0005,
            "best_trade": 0.001,
            "worst_trade": -0.0005,
            "fees_paid": 0.00003,
            "exposure_pct": 42.0,
            "final_equity": 1.0015,
            "currency": "XBT",
        }
        services.session_results_save(session=session, run=run, metrics=metrics, equity=equity)
        session.refresh_from_db()
        return run

    return add
