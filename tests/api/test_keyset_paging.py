"""Keyset paging: `cursor` / `next_cursor` on GET /api/sessions and a run's trades.

Walking every page with the cursor returns every row once, in the list's order (sort value,
then id, both in the sort's direction; NULLs first ascending), also while rows are inserted and
deleted between pages; a bad, edited or foreign cursor is a 400 naming `cursor`.
"""

from __future__ import annotations

import base64
import json
import random
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from sessions_app import services
from sessions_app.models import Run, Session, Trade
from sessions_app.selectors import SESSION_SORTS
from sessions_app.services.trades import trades_insert

SESSIONS = 45
BASE = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
def loaded(db):
    """Sessions bulk-loaded as an import would, with ties in every sort and NULLs where a
    column allows them."""
    rng = random.Random(11)
    rows = []
    for i in range(SESSIONS):
        started = BASE + timedelta(hours=rng.randint(0, 5)) if i % 4 else None
        rows.append(
            Session(
                id=str(uuid.UUID(int=rng.getrandbits(128))),
                name=None if i % 9 == 0 else f"Run {rng.choice('ABC')}",
                type=rng.choice(["test", "backtest", "scraper"]),
                market=rng.choice(["XBTUSD", "ETHUSD"]),
                strategy=rng.choice(["TestBot", "SmaCross"]),
                status=rng.choice(["completed", "stopped", "failed"]),
                created_at=BASE + timedelta(minutes=rng.randint(0, 10)),
                started_at=started,
                stopped_at=started + timedelta(minutes=rng.randint(1, 3)) if started else None,
                trade_count=rng.randint(0, 4),
                total_pnl=Decimal(rng.choice(["-1.5", "0", "2.25", "10"])),
                win_rate=Decimal(rng.choice(["0", "50", "100"])),
                max_drawdown=Decimal(rng.choice(["0", "0.1"])),
                sharpe=Decimal(rng.choice(["-1", "0", "1.5"])),
            )
        )
    Session.objects.bulk_create(rows)
    return rows


def expected(sort: str, descending: bool) -> list[str]:
    """The list's order computed here: (value, id), NULLs first ascending (last descending)."""
    rows = Session.objects.values_list(sort, "id")
    ordered = sorted(rows, key=lambda row: (row[0] is not None, row[0] if row[0] is not None else 0, row[1]))
    return [row_id for _, row_id in (ordered[::-1] if descending else ordered)]


def walk(client, path: str, *, between_pages=None, **query) -> tuple[list, int]:
    """Every page from the first until next_cursor is null: (ids in answer order, pages)."""
    key = "trades" if "/trades" in path else "sessions"
    seen, cursor, pages = [], None, 0
    while True:
        response = client.get(path, {**query, **({"cursor": cursor} if cursor else {})})
        assert response.status_code == 200, response.content[:300]
        body = response.json()
        pages += 1
        assert pages <= 100, "the walk does not end"
        assert body["offset"] == (0 if cursor is None else None)
        seen += [row["id"] for row in body[key]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
        if between_pages:
            between_pages(pages)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", sorted(SESSION_SORTS))
def test_every_session_comes_once_in_order(viewer_api, loaded, sort, direction):
    seen, pages = walk(viewer_api, "/api/sessions", sort=f"{sort}:{direction}", limit=8)

    assert seen == expected(sort, direction == "desc")
    assert pages == 6  # 45 rows, 8 a page


def test_the_cursor_pages_keep_the_filters_and_the_exact_total(viewer_api, loaded):
    wanted = [s for s in expected("total_pnl", True) if Session.objects.get(pk=s).status == "completed"]
    first = viewer_api.get(
        "/api/sessions", {"status": "completed", "sort": "total_pnl:desc", "limit": 3}
    ).json()
    second = viewer_api.get(
        "/api/sessions",
        {"status": "completed", "sort": "total_pnl:desc", "limit": 3, "cursor": first["next_cursor"]},
    ).json()

    assert [s["id"] for s in first["sessions"] + second["sessions"]] == wanted[:6]
    assert first["total"] == second["total"] == len(wanted)


def test_sessions_made_and_deleted_between_pages_neither_repeat_nor_hide_others(viewer_api, operator, loaded):
    before = expected("created_at", True)
    gone_ahead = []

    def churn(page: int) -> None:
        # A new session (the newest: behind the walk), one session the walk has not reached
        # deleted (among the oldest), and one it has shown deleted.
        services.session_create(
            user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
        )
        if page <= 3:
            gone_ahead.append(before[-page])
            Session.objects.filter(pk__in=[before[-page], before[page - 1]]).delete()

    seen, _ = walk(viewer_api, "/api/sessions", between_pages=churn, limit=7)

    assert seen == [s for s in before if s not in gone_ahead]
    assert len(gone_ahead) == 3


def test_an_offset_page_hands_out_the_cursor_of_what_follows(viewer_api, loaded):
    order = expected("created_at", True)
    by_offset = viewer_api.get("/api/sessions", {"offset": 10, "limit": 5}).json()
    following = viewer_api.get("/api/sessions", {"cursor": by_offset["next_cursor"], "limit": 5}).json()

    assert [s["id"] for s in by_offset["sessions"]] == order[10:15]
    assert [s["id"] for s in following["sessions"]] == order[15:20]
    assert by_offset["total"] == following["total"] == SESSIONS


# --- trades -----------------------------------------------------------------------------------


@pytest.fixture
def run_with_trades(make_session):
    session = make_session(type="backtest")
    run = session.runs.get()
    rng = random.Random(5)
    rows = [
        (
            run.pk,
            "XBTUSD",
            "long",
            1_700_000_000 + rng.randint(0, 40) * 60,
            100,
            1,
            None,
            None,
            None,
            0,
            0,
            "signal",
            0,
        )
        for _ in range(150)
    ]
    trades_insert(rows)
    return session, run


def trades_in_order(run: Run) -> list[int]:
    return [t.id for t in sorted(Trade.objects.filter(run=run), key=lambda t: (t.entry_time, t.id))]


def test_every_trade_comes_once_in_entry_order(viewer_api, run_with_trades):
    session, run = run_with_trades

    seen, pages = walk(viewer_api, f"/api/sessions/{session.id}/trades", limit=13)
    by_run, _ = walk(viewer_api, f"/api/sessions/{session.id}/runs/{run.config_hash}/trades", limit=40)

    assert seen == trades_in_order(run) == by_run
    assert pages == 12


def test_trades_written_and_deleted_during_the_walk_neither_repeat_nor_hide_others(
    viewer_api, run_with_trades
):
    session, run = run_with_trades
    before = trades_in_order(run)
    position = {t.id: (t.entry_time, t.id) for t in Trade.objects.filter(run=run)}

    def churn(page: int) -> None:
        # A trade at the very start (behind the walk), one at the end (ahead), one seen deleted.
        trades_insert(
            [
                (run.pk, "XBTUSD", "short", t, 100, 1, None, None, None, 0, 0, "signal", 0)
                for t in (1, 2_000_000_000)
            ]
        )
        Trade.objects.filter(pk=before[page]).delete()

    seen, _ = walk(viewer_api, f"/api/sessions/{session.id}/trades", between_pages=churn, limit=20)

    position.update({t.id: (t.entry_time, t.id) for t in Trade.objects.filter(run=run)})
    ahead = set(Trade.objects.filter(run=run, entry_time=2_000_000_000).values_list("id", flat=True))
    assert len(seen) == len(set(seen))
    assert [t for t in seen if t in before] == before  # every trade there at the start, once
    assert seen == sorted(seen, key=position.__getitem__)  # in entry order
    assert ahead <= set(seen)  # those written ahead of the walk are met
    assert not set(Trade.objects.filter(run=run, entry_time__in=[1, 2]).values_list("id", flat=True)) & set(
        seen
    )


# --- refusals ---------------------------------------------------------------------------------


def first_cursor(client, path: str, **query) -> str:
    cursor = client.get(path, {"limit": 2, **query}).json()["next_cursor"]
    assert cursor
    return cursor


def forged(cursor: str, change) -> str:
    payload, timestamp, signature = cursor.split(":")
    values = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps(change(values)).encode()).decode().rstrip("=")
    return f"{edited}:{timestamp}:{signature}"


def test_a_bad_or_forged_cursor_is_a_400_naming_it(viewer_api, run_with_trades, loaded, assert_refused):
    session, _ = run_with_trades
    trades = f"/api/sessions/{session.id}/trades"
    cursor = first_cursor(viewer_api, "/api/sessions", sort="total_pnl:desc")
    flipped = cursor[:-1] + ("A" if cursor[-1] != "A" else "B")
    edited = forged(cursor, lambda v: [v[0], "999999", v[2]])

    for path, garbage in [
        ("/api/sessions", "abc"),
        ("/api/sessions", "0"),
        ("/api/sessions", "é" * 3),
        ("/api/sessions", "a" * 600),
        ("/api/sessions", flipped),
        ("/api/sessions", edited),
        (trades, "abc"),
        (trades, cursor),  # a sessions cursor is no trades cursor
    ]:
        assert_refused(viewer_api.get(path, {"cursor": garbage, "sort": "total_pnl:desc"}), 400, "cursor")


def test_a_cursor_of_another_sort_or_list_is_refused(
    viewer_api, make_session, run_with_trades, loaded, assert_refused
):
    session, _ = run_with_trades
    sessions_cursor = first_cursor(viewer_api, "/api/sessions", sort="total_pnl:desc")
    trades_cursor = first_cursor(viewer_api, f"/api/sessions/{session.id}/trades")
    make_session(type="backtest", sweep={"threshold": [0.1, 0.2, 0.9]})
    runs_cursor = first_cursor(viewer_api, "/api/runs", sort="total_pnl:desc")

    for query in (
        {"cursor": sessions_cursor, "sort": "total_pnl:asc"},
        {"cursor": sessions_cursor},
        {"cursor": trades_cursor},
        {"cursor": runs_cursor, "sort": "total_pnl:desc"},
    ):
        assert_refused(viewer_api.get("/api/sessions", query), 400, "cursor")
    assert_refused(
        viewer_api.get("/api/runs", {"cursor": sessions_cursor, "sort": "total_pnl:desc"}), 400, "cursor"
    )


def test_a_cursor_with_an_offset_is_a_400_naming_offset(viewer_api, loaded, assert_refused):
    cursor = first_cursor(viewer_api, "/api/sessions")

    assert_refused(viewer_api.get("/api/sessions", {"cursor": cursor, "offset": 5}), 400, "offset")
    assert viewer_api.get("/api/sessions", {"cursor": cursor, "offset": 0}).status_code == 200
