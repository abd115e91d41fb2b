"""GET /api/sessions/<id>/runs (cursor-paged), .../runs/<config_hash> and its trades."""

import re
import time

from sessions_app.models import Run, Trade

SWEEP = {"threshold": [0.3, 0.5], "position_size": [10, 20]}


def past_range():
    end = int(time.time()) - 86_400
    return {"range_start": end - 3 * 86_400, "range_end": end}


def test_a_plain_session_has_exactly_one_run(operator_api, make_session):
    session = make_session(strategy_params={"threshold": 0.3, "position_size": 50})

    response = operator_api.get(f"/api/sessions/{session.id}/runs")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert (body["total"], body["next_cursor"]) == (1, None)
    [run] = body["runs"]
    assert re.fullmatch(r"[0-9a-f]{12}", run["config_hash"])
    assert run["params"] == {"threshold": 0.3, "position_size": 50}
    assert (run["session_id"], run["status"]) == (session.id, "created")


def test_a_sweep_has_one_run_per_combination(operator_api):
    body = {"type": "backtest", "market": "XBTUSD", "strategy": "TestBot", **past_range(), "sweep": SWEEP}
    session = operator_api.post("/api/sessions", body, format="json").json()["session"]

    runs = operator_api.get(f"/api/sessions/{session['id']}/runs").json()

    assert runs["total"] == 4
    assert sorted((r["params"]["threshold"], r["params"]["position_size"]) for r in runs["runs"]) == [
        (0.3, 10),
        (0.3, 20),
        (0.5, 10),
        (0.5, 20),
    ]
    hashes = [r["config_hash"] for r in runs["runs"]]
    assert len(set(hashes)) == 4 and all(re.fullmatch(r"[0-9a-f]{12}", h) for h in hashes)


def test_it_pages_runs_with_a_cursor(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)

    first = operator_api.get(f"/api/sessions/{session.id}/runs?limit=3").json()
    second = operator_api.get(f"/api/sessions/{session.id}/runs?limit=3&cursor={first['next_cursor']}").json()

    assert len(first["runs"]) == 3 and first["next_cursor"] is not None
    assert len(second["runs"]) == 1 and second["next_cursor"] is None
    seen = [r["config_hash"] for r in first["runs"] + second["runs"]]
    assert sorted(seen) == sorted(session.runs.values_list("config_hash", flat=True))
    assert len(set(seen)) == 4


def test_it_sorts_runs_by_profit(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)
    # Results come from the worker; write them as it would to have something to sort.
    for pnl, run in zip(["5", "-2", "40", "0.5"], session.runs.order_by("id"), strict=True):
        Run.objects.filter(pk=run.pk).update(total_pnl=pnl)

    body = operator_api.get(f"/api/sessions/{session.id}/runs?sort=total_pnl:desc&limit=2").json()
    rest = operator_api.get(
        f"/api/sessions/{session.id}/runs?sort=total_pnl:desc&limit=2&cursor={body['next_cursor']}"
    ).json()

    assert [r["total_pnl"] for r in body["runs"] + rest["runs"]] == [40.0, 5.0, 0.5, -2.0]


def test_it_filters_runs_by_status(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)
    first = session.runs.order_by("id").first()
    Run.objects.filter(pk=first.pk).update(status="completed")

    body = operator_api.get(f"/api/sessions/{session.id}/runs?status=completed").json()

    assert [r["config_hash"] for r in body["runs"]] == [first.config_hash]
    assert body["total"] == 1


def test_it_refuses_a_bad_run_sort_or_cursor(operator_api, make_session, assert_refused):
    session = make_session()

    assert_refused(operator_api.get(f"/api/sessions/{session.id}/runs?sort=params:asc"), 400, "sort")
    assert_refused(operator_api.get(f"/api/sessions/{session.id}/runs?cursor=abc"), 400, "cursor")


def test_it_shows_one_run_by_config_hash(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)
    run = session.runs.order_by("id").last()

    response = operator_api.get(f"/api/sessions/{session.id}/runs/{run.config_hash}")

    assert response.status_code == 200
    assert response.json()["success"] is True
    assert response.json()["run"]["config_hash"] == run.config_hash
    assert response.json()["run"]["params"] == run.params


def test_it_answers_404_for_a_hash_of_another_session(operator_api, make_session, assert_refused):
    session = make_session()
    other = make_session(market="ETHUSD")

    assert_refused(operator_api.get(f"/api/sessions/{session.id}/runs/{other.runs.get().config_hash}"), 404)
    assert_refused(operator_api.get(f"/api/sessions/{session.id}/runs/abcdefabcdef"), 404)


def test_it_pages_a_runs_trades(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)
    run = session.runs.order_by("id").first()
    # Trades are the runner's output; no runner runs here.
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market="XBTUSD",
            side="long",
            entry_time=1_700_000_000 + 60 * i,
            entry_price="30000",
            entry_size="100",
            exit_time=1_700_000_030 + 60 * i,
            exit_price="30010",
            exit_size="100",
            realized_pnl="0.0000011",
            fee="0.0000002",
        )
        for i in range(5)
    )

    body = operator_api.get(
        f"/api/sessions/{session.id}/runs/{run.config_hash}/trades?limit=2&offset=2"
    ).json()

    assert body["success"] is True
    assert (body["total"], body["limit"], body["offset"], body["config_hash"]) == (5, 2, 2, run.config_hash)
    assert [t["entry_time"] for t in body["trades"]] == [1_700_000_120, 1_700_000_180]
    assert body["trades"][0]["side"] == "long" and body["trades"][0]["exit_price"] == 30010.0


def test_a_cursor_past_the_end_is_not_a_500(operator_api, make_session):
    session = make_session(type="backtest", sweep=SWEEP)

    response = operator_api.get(f"/api/sessions/{session.id}/runs?cursor=99999999999999999999")

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert (response.json()["runs"], response.json()["next_cursor"]) == ([], None)


def test_a_run_trades_offset_past_any_page_is_not_a_500(operator_api, make_session):
    session = make_session()
    run = session.runs.get()

    response = operator_api.get(
        f"/api/sessions/{session.id}/runs/{run.config_hash}/trades?offset=99999999999999999999"
    )

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["trades"] == []


BIG_SWEEP = {"threshold": [0.1, 0.2, 0.3, 0.4, 0.5], "position_size": [10, 20, 30]}


def test_a_cursor_walk_by_profit_returns_every_run_once_in_order(operator_api, make_session):
    """Keyset pages on (total_pnl, id), both descending, and a run deleted between
    pages neither repeats the others nor hides them."""
    session = make_session(type="backtest", sweep=BIG_SWEEP)
    runs = list(session.runs.order_by("id"))
    for i, run in enumerate(runs):
        Run.objects.filter(pk=run.pk).update(total_pnl=str(i % 4))  # ties in every value
    gone = runs[4]  # profit 0: the walk's last page

    seen, cursor = [], None
    while True:
        url = f"/api/sessions/{session.id}/runs?sort=total_pnl:desc&limit=4"
        body = operator_api.get(url + (f"&cursor={cursor}" if cursor else "")).json()
        seen += [(r["total_pnl"], r["config_hash"]) for r in body["runs"]]
        if len(seen) == 4:
            Run.objects.filter(pk=gone.pk).delete()
        cursor = body["next_cursor"]
        if cursor is None:
            break

    ids = {r.config_hash: r.pk for r in runs}
    left = {r.config_hash for r in runs} - {gone.config_hash}
    assert [h for _, h in seen] and len(seen) == len(left) and {h for _, h in seen} == left
    assert [(pnl, ids[h]) for pnl, h in seen] == sorted(((pnl, ids[h]) for pnl, h in seen), reverse=True)
    assert body["total"] == len(left) and body["offset"] is None


def test_a_runs_cursor_of_another_sort_or_list_is_a_400(operator_api, make_session, assert_refused):
    session = make_session(type="backtest", sweep=BIG_SWEEP)
    by_id = operator_api.get(f"/api/sessions/{session.id}/runs?limit=2").json()["next_cursor"]
    sessions_cursor = operator_api.get("/api/sessions?limit=1").json()["next_cursor"]

    assert by_id is not None
    assert_refused(
        operator_api.get(f"/api/sessions/{session.id}/runs?sort=total_pnl:desc&cursor={by_id}"), 400, "cursor"
    )
    assert_refused(
        operator_api.get(f"/api/sessions/{session.id}/runs?cursor={sessions_cursor}"), 400, "cursor"
    )
    assert_refused(
        operator_api.get(f"/api/sessions/{session.id}/runs?cursor={by_id}&offset=2"), 400, "offset"
    )
