"""GET /api/runs: runs across sessions, filtered, sorted, keyset-paged with cursor / next_cursor."""

from __future__ import annotations

import base64
import itertools
import json

import pytest

from sessions_app import services
from sessions_app.models import Run
from tests.conftest import backtest_range

SWEEP = {"threshold": [0.3, 0.5, 0.7], "position_size": [10, 20]}
SORTS = ["total_pnl", "sharpe", "win_rate", "max_drawdown", "created_at"]
# Few distinct values, so every sort has runs of equal value (paged in id order). The win
# rates carry more decimals than the column's two, as the runner writes them: SQLite keeps
# them so, MariaDB rounds them; pages must neither repeat nor lose a run on either.
RESULTS = [
    {"total_pnl": 5, "sharpe": 1.5, "win_rate": 55.12345678, "max_drawdown": 3},
    {"total_pnl": -2.5, "sharpe": 0, "win_rate": 40, "max_drawdown": 7.25},
    {"total_pnl": 5, "sharpe": 1.5, "win_rate": 55.12345678, "max_drawdown": 3},
    {"total_pnl": 12.12345678, "sharpe": -0.75, "win_rate": 61.5, "max_drawdown": 0},
    {"total_pnl": 0, "sharpe": 1.5, "win_rate": 40, "max_drawdown": 7.25},
]
STATUSES = ["completed", "completed", "failed", None]


def save_results(run: Run, results: dict, status: str | None) -> None:
    """What the runner reports for a run, through the service it calls."""
    services.session_results_save(
        session=run.session, run=run, metrics={"trade_count": 3, **results}, status=status
    )


def give_results(runs) -> None:
    for run, results, status in zip(runs, itertools.cycle(RESULTS), itertools.cycle(STATUSES)):
        save_results(run, results, status)


@pytest.fixture
def sessions(make_session):
    """Three sweeps (18 runs) over two markets and two timeframes, and one plain SmaCross session."""
    week, three_days = backtest_range(days=7), backtest_range(days=3)
    made = {
        "btc": make_session(type="backtest", sweep=SWEEP, **week),
        "eth": make_session(type="backtest", market="ETHUSD", sweep=SWEEP, **week),
        "hourly": make_session(type="backtest", timeframe="1h", sweep=SWEEP, **three_days),
        "sma": make_session(type="backtest", strategy="SmaCross", **week),
    }
    give_results(Run.objects.order_by("id"))
    return made


def expected_order(sort: str, descending: bool, runs=None) -> list[int]:
    """Run ids in the order (sort value, id), computed here from the rows."""
    field = "id" if sort == "created_at" else sort
    rows = (runs if runs is not None else Run.objects.all()).values_list(field, "id")
    return [run_id for _, run_id in sorted(rows, reverse=descending)]


def get_page(client, **query):
    response = client.get("/api/runs", {k: v for k, v in query.items() if v is not None})
    assert response.status_code == 200, response.content[:500]
    return response.json()


def walk(client, *, between_pages=None, **query) -> tuple[list[int], int]:
    """Every page from the first to next_cursor null: (run ids in answer order, pages)."""
    seen, cursor, pages = [], None, 0
    while True:
        body = get_page(client, cursor=cursor, **query)
        pages += 1
        assert pages <= 50, f"the walk does not end: {seen}"
        seen += [run["id"] for run in body["runs"]]
        assert len(body["runs"]) <= body["limit"]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen, pages
        if between_pages:
            between_pages(pages)


@pytest.mark.parametrize("direction", ["asc", "desc"])
@pytest.mark.parametrize("sort", SORTS)
def test_it_pages_every_run_once_in_order(viewer_api, sessions, sort, direction):
    seen, pages = walk(viewer_api, sort=f"{sort}:{direction}", limit=4)

    assert seen == expected_order(sort, direction == "desc")
    assert len(seen) == 19 and pages == 5


def test_a_last_full_page_has_no_cursor(viewer_api, sessions):
    Run.objects.filter(session=sessions["sma"]).delete()

    seen, pages = walk(viewer_api, sort="win_rate:desc", limit=6)

    assert (len(seen), pages) == (18, 3)


def test_the_default_is_newest_first_fifty_a_page(viewer_api, sessions):
    body = get_page(viewer_api)

    assert [r["id"] for r in body["runs"]] == expected_order("created_at", True)
    assert (body["limit"], body["next_cursor"]) == (50, None)
    first = body["runs"][0]
    assert set(first) >= {"id", "session_id", "config_hash", "params", "status", "total_pnl", "metrics"}


@pytest.mark.parametrize("sort", ["total_pnl:desc", "win_rate:asc", "created_at:asc", "created_at:desc"])
def test_runs_made_between_pages_neither_repeat_nor_hide_others(viewer_api, make_session, sessions, sort):
    field, direction = sort.split(":")
    before = expected_order(field, direction == "desc")

    def another_sweep(page: int) -> None:
        session = make_session(type="backtest", market="ETHUSD", sweep={"threshold": [0.1, 0.2, 0.9]})
        give_results(session.runs.order_by("id"))

    seen, _ = walk(viewer_api, sort=sort, limit=4, between_pages=another_sweep)

    assert len(seen) == len(set(seen))
    assert [run_id for run_id in seen if run_id in before] == before
    # Whatever new runs the walk met, it met them in their place.
    assert seen == [run_id for run_id in expected_order(field, direction == "desc") if run_id in seen]


def ids(client, **query) -> set[int]:
    return {run["id"] for run in get_page(client, limit=200, **query)["runs"]}


def run_ids(*sessions) -> set[int]:
    return set(Run.objects.filter(session__in=sessions).values_list("id", flat=True))


def test_it_filters_by_the_sessions_fields(viewer_api, sessions):
    btc, eth, hourly, sma = sessions["btc"], sessions["eth"], sessions["hourly"], sessions["sma"]

    assert ids(viewer_api, market="ETHUSD") == run_ids(eth)
    assert ids(viewer_api, market="ETHUSD,XBTUSD") == run_ids(btc, eth, hourly, sma)
    assert ids(viewer_api, timeframe="1h") == run_ids(hourly)
    assert ids(viewer_api, strategy="SmaCross") == run_ids(sma)
    assert ids(viewer_api, exchange=btc.exchange) == run_ids(btc, eth, hourly, sma)
    assert ids(viewer_api, exchange="nowhere") == set()
    assert ids(viewer_api, session=eth.id) == run_ids(eth)
    assert ids(viewer_api, range_start=hourly.range_start, range_end=hourly.range_end) == run_ids(hourly)
    assert ids(viewer_api, range_start=btc.range_start) == run_ids(btc, eth, sma)
    assert ids(viewer_api, market="ETHUSD", timeframe="1h") == set()


def test_it_filters_by_the_runs_statuses(viewer_api, sessions):
    failed = set(Run.objects.filter(status="failed").values_list("id", flat=True))
    created = set(Run.objects.filter(status="created").values_list("id", flat=True))
    assert failed and created

    assert ids(viewer_api, status="failed") == failed
    assert ids(viewer_api, status="failed,created") == failed | created


def test_filters_and_sort_page_together(viewer_api, sessions):
    runs = Run.objects.filter(status="completed", session__market="XBTUSD")

    seen, _ = walk(viewer_api, sort="total_pnl:desc", status="completed", market="XBTUSD", limit=2)

    assert seen == expected_order("total_pnl", True, runs) and len(seen) > 2


def test_a_limit_past_the_most_is_clamped(viewer_api, sessions):
    assert get_page(viewer_api, limit=1000)["limit"] == 200
    assert get_page(viewer_api, limit=0)["limit"] == 50


def first_cursor(client, sort: str) -> str:
    return get_page(client, sort=sort, limit=2)["next_cursor"]


def test_a_cursor_that_is_not_one_is_refused(viewer_api, sessions, assert_refused):
    for garbage in ("abc", "0", "W10:1abc:xyz", "é", "a" * 500):
        assert_refused(viewer_api.get("/api/runs", {"cursor": garbage}), 400, "cursor")


def test_an_edited_cursor_is_refused(viewer_api, sessions, assert_refused):
    cursor = first_cursor(viewer_api, "total_pnl:desc")
    payload, timestamp, signature = cursor.split(":")
    sort, value, run_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    edited = base64.urlsafe_b64encode(json.dumps([sort, value, run_id + 1]).encode()).decode().rstrip("=")
    flipped = signature[:-1] + ("A" if signature[-1] != "A" else "B")

    for forged in (f"{edited}:{timestamp}:{signature}", f"{payload}:{timestamp}:{flipped}"):
        assert_refused(
            viewer_api.get("/api/runs", {"sort": "total_pnl:desc", "cursor": forged}), 400, "cursor"
        )


def test_a_cursor_of_another_sort_is_refused(viewer_api, sessions, assert_refused):
    cursor = first_cursor(viewer_api, "total_pnl:desc")

    for sort in ("total_pnl:asc", "sharpe:desc", None):
        query = {"cursor": cursor, **({"sort": sort} if sort else {})}
        assert_refused(viewer_api.get("/api/runs", query), 400, "cursor")
    assert get_page(viewer_api, sort="total_pnl:desc", cursor=cursor, limit=2)["runs"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sort", "trade_count:desc"),
        ("sort", "total_pnl:sideways"),
        ("sort", "id"),
        ("status", "done"),
        ("timeframe", "7m"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("limit", "²"),
        ("range_start", "yesterday"),
        ("range_end", "9" * 30),
        ("session", "not a session"),
    ],
)
def test_a_bad_value_is_a_400_naming_its_field(viewer_api, sessions, assert_refused, field, value):
    assert_refused(viewer_api.get("/api/runs", {field: value}), 400, field)


def test_anonymous_callers_are_refused(anon_api, assert_refused):
    assert_refused(anon_api.get("/api/runs"), 401)
