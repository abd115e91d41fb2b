"""GET /api/compare?runs=...: runs of any sessions side by side, with their equity curves."""

import re

import pytest
from django.core.cache import cache

from sessions_app import services
from sessions_app.api.compare import CompareAnswerSerializer
from sessions_app.models import Run
from sessions_app.selectors import equity_key

START = 1_767_225_600  # 2026-01-01 00:00 UTC


def _finished_run(session, run, *, pnl: float, step: float):
    equity = [[START + k * 60, 1 + k * step] for k in range(5)]
    services.session_results_save(
        session=session,
        run=run,
        metrics={"total_pnl": pnl, "trade_count": 4, "profit_factor": 1.5},
        equity=equity,
        status="completed",
    )
    return Run.objects.get(pk=run.pk), equity


@pytest.fixture
def two_sessions(make_session):
    """A sweep of two runs and a plain backtest, each run with results and a curve."""
    sweep = make_session(type="backtest", name="Sweep A", sweep={"threshold": [0.3, 0.6]})
    plain = make_session(type="backtest", name="Plain B", market="ETHUSD")
    first, second = sweep.runs.order_by("id")
    return {
        "sweep": sweep,
        "plain": plain,
        "runs": [
            _finished_run(sweep, first, pnl=0.002, step=0.001),
            _finished_run(sweep, second, pnl=-0.001, step=-0.0005),
            _finished_run(plain, plain.runs.get(), pnl=12.5, step=2.0),
        ],
    }


def test_it_answers_runs_of_two_sessions_in_the_order_asked(operator_api, two_sessions):
    (a, a_curve), (_, _), (c, c_curve) = two_sessions["runs"]

    response = operator_api.get(f"/api/compare?runs={c.pk},{a.pk}")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [r["id"] for r in body["runs"]] == [c.pk, a.pk]
    plain, sweep = body["runs"]
    assert (plain["session_id"], plain["config_hash"], plain["total_pnl"]) == (
        two_sessions["plain"].pk,
        c.config_hash,
        12.5,
    )
    assert plain["metrics"]["profit_factor"] == 1.5
    assert plain["session"] == {
        "id": two_sessions["plain"].pk,
        "name": "Plain B",
        "market": "ETHUSD",
        "strategy": "TestBot",
        "timeframe": "1m",
        "range_start": two_sessions["plain"].range_start,
        "range_end": two_sessions["plain"].range_end,
    }
    assert sweep["session"]["name"] == "Sweep A" and sweep["params"]["threshold"] == 0.3
    assert body["equity"] == {str(c.pk): c_curve, str(a.pk): a_curve}
    # The schema's serializer names exactly the answered fields, with the same values.
    assert CompareAnswerSerializer(body).data == body


def test_it_takes_up_to_eight_runs_and_a_trailing_slash(operator_api, make_session):
    sweep = make_session(type="backtest", sweep={"threshold": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8]})
    ids = list(sweep.runs.order_by("-id").values_list("id", flat=True))

    response = operator_api.get(f"/api/compare/?runs={','.join(map(str, ids))}")

    assert response.status_code == 200
    assert [r["id"] for r in response.json()["runs"]] == ids
    assert response.json()["equity"] == {str(i): [] for i in ids}  # not run yet: empty curves


def test_a_running_session_gives_its_live_curve(operator_api, make_session):
    running = make_session(type="backtest", start=True)
    other = make_session(type="backtest")
    live = [[START, 1.0], [START + 60, 1.01]]
    cache.set(equity_key(running.pk), live)
    try:
        body = operator_api.get(f"/api/compare?runs={running.runs.get().pk},{other.runs.get().pk}").json()
    finally:
        cache.delete(equity_key(running.pk))

    assert body["equity"][str(running.runs.get().pk)] == live


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?runs=",
        "?runs=%20",
        "?runs=1",
        "?runs=1,2,3,4,5,6,7,8,9",
        "?runs=1,1",
        "?runs=1,,2",
        "?runs=1,x",
        "?runs=1,-2",
        "?runs=1,2.5",
        "?runs=1,%C2%B2",  # '²' is a digit to isdigit, not a whole number
        "?runs=1,99999999999999999999999",
    ],
)
def test_bad_input_is_a_400_naming_runs(operator_api, two_sessions, assert_refused, query):
    assert_refused(operator_api.get(f"/api/compare{query}"), 400, "runs")


def test_unknown_run_ids_are_a_404_naming_them(operator_api, two_sessions, assert_refused):
    (a, _), _, _ = two_sessions["runs"]

    body = assert_refused(operator_api.get(f"/api/compare?runs={a.pk},987654,987655"), 404, "runs")

    assert "987654" in body["error"] and "987655" in body["error"]
    named = set(re.findall(r"\d+", body["errors"]["runs"][0]))
    assert {"987654", "987655"} <= named and str(a.pk) not in named


def test_anonymous_requests_get_401(anon_api, two_sessions):
    (a, _), (b, _), _ = two_sessions["runs"]

    assert anon_api.get(f"/api/compare?runs={a.pk},{b.pk}").status_code == 401


def test_a_viewer_may_compare(viewer_api, two_sessions):
    (a, _), (b, _), _ = two_sessions["runs"]

    assert viewer_api.get(f"/api/compare?runs={a.pk},{b.pk}").status_code == 200
