"""GET /api/sessions/<id>/trades, /metrics, /equity, /logs: the best run's results."""

from sessions_app.models import Run, Session, Trade


def add_trades(run, count, market="XBTUSD"):
    # Trades and results are the runner's output; no runner runs in these tests.
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market=market,
            side="short" if i % 2 else "long",
            entry_time=1_700_000_000 + 60 * i,
            entry_price="30000",
            entry_size="100",
            exit_time=1_700_000_030 + 60 * i,
            exit_price="29990",
            exit_size="100",
            realized_pnl="0.000001",
            fee="0.0000001",
        )
        for i in range(count)
    )


def test_trades_are_those_of_the_most_profitable_run(operator_api, make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.3, 0.5]})
    poor, best = session.runs.order_by("id")
    Run.objects.filter(pk=best.pk).update(total_pnl="3")
    add_trades(poor, 1)
    add_trades(best, 3)

    body = operator_api.get(f"/api/sessions/{session.id}/trades?limit=2").json()

    assert body["success"] is True
    assert (body["total"], body["limit"], body["offset"], body["config_hash"]) == (3, 2, 0, best.config_hash)
    assert [(t["side"], t["entry_time"]) for t in body["trades"]] == [
        ("long", 1_700_000_000),
        ("short", 1_700_000_060),
    ]
    assert body["trades"][0]["realized_pnl"] == 0.000001


def test_trades_of_a_chosen_run(operator_api, make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.3, 0.5]})
    poor, _ = session.runs.order_by("id")
    add_trades(poor, 1)

    body = operator_api.get(f"/api/sessions/{session.id}/trades?run={poor.config_hash}").json()

    assert (body["total"], body["config_hash"]) == (1, poor.config_hash)


def test_metrics_carry_the_currency_of_the_market(operator_api, make_session):
    inverse = make_session(market="XBTUSD")
    linear = make_session(market="ETHUSD")
    Session.objects.filter(pk=inverse.pk).update(total_pnl="0.0125", trade_count=7, win_rate="57.14")
    Run.objects.filter(session=inverse).update(metrics={"profit_factor": 1.8})

    xbt = operator_api.get(f"/api/sessions/{inverse.id}/metrics").json()
    usd = operator_api.get(f"/api/sessions/{linear.id}/metrics").json()

    assert xbt["success"] is True
    assert xbt["metrics"]["currency"] == "XBT" and xbt["metrics"]["initial_balance"] == 1.0
    assert (xbt["metrics"]["total_pnl"], xbt["metrics"]["trade_count"], xbt["metrics"]["win_rate"]) == (
        0.0125,
        7,
        57.14,
    )
    assert xbt["metrics"]["profit_factor"] == 1.8
    assert usd["metrics"]["currency"] == "USD" and usd["metrics"]["initial_balance"] == 10000.0


def test_equity_is_the_best_runs_curve(operator_api, make_session):
    session = make_session(market="ETHUSD")
    Run.objects.filter(session=session).update(equity=[[1_700_000_000, 10000.0], [1_700_000_060, 10012.5]])

    body = operator_api.get(f"/api/sessions/{session.id}/equity").json()

    assert body["equity"] == [[1_700_000_000, 10000.0], [1_700_000_060, 10012.5]]
    assert body["currency"] == "USD"


def test_logs_of_a_session_without_a_log_are_empty(operator_api, make_session):
    session = make_session()

    assert operator_api.get(f"/api/sessions/{session.id}/logs").json() == {
        "success": True,
        "lines": [],
        "offset": 0,
        "size": 0,
    }


def test_logs_tail_and_follow(operator_api, make_session, data_root):
    session = make_session()
    log = data_root / "logs" / f"session_{session.pk}.log"
    log.parent.mkdir(parents=True)
    log.write_text("one\ntwo\nthree\n")
    Session.objects.filter(pk=session.pk).update(logs_file=str(log))

    tail = operator_api.get(f"/api/sessions/{session.id}/logs?tail=2").json()
    with log.open("a") as handle:
        handle.write("four\n")
    follow = operator_api.get(f"/api/sessions/{session.id}/logs?offset={tail['offset']}").json()

    assert (tail["lines"], tail["offset"]) == (["two", "three"], 14)
    assert (follow["lines"], follow["offset"]) == (["four"], 19)


def test_a_stored_log_path_outside_data_root_is_never_read(operator_api, make_session, data_root, tmp_path):
    """A row whose logs_file was made to point elsewhere (edited in the database, an old
    install) answers no log: the endpoint reads files under DATA_ROOT only, symlinks included."""
    session = make_session()
    outside = tmp_path / "not-a-log.txt"
    outside.write_text("secret: hunter2\n")
    (data_root / "logs").mkdir(parents=True)
    link = data_root / "logs" / f"session_{session.pk}.log"
    link.symlink_to(outside)

    for stored in (outside, link, data_root / "logs" / ".." / ".." / outside.name):
        Session.objects.filter(pk=session.pk).update(logs_file=str(stored))
        for query in ("", "?tail=5", "?offset=0"):
            answer = operator_api.get(f"/api/sessions/{session.id}/logs{query}").json()
            assert answer == {"success": True, "lines": [], "offset": 0, "size": 0}, (stored, query)


def test_logs_refuse_a_tail_that_is_not_a_number(operator_api, make_session, assert_refused):
    session = make_session()

    assert_refused(operator_api.get(f"/api/sessions/{session.id}/logs?tail=all"), 400, "tail")


def test_a_trades_offset_past_any_page_is_not_a_500(operator_api, make_session):
    session = make_session()
    add_trades(session.runs.get(), 2)

    response = operator_api.get(f"/api/sessions/{session.id}/trades?offset=99999999999999999999")

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert (response.json()["trades"], response.json()["total"]) == ([], 2)
