"""The Compare view: runs (or History's sessions' best runs) side by side, and its entry points."""

import json
import re

import pytest

from sessions_app import services
from sessions_app.models import Run
from tests.dashboard.conftest import HTMX

XSS = "<script>alert(1)</script>"
START = 1_767_225_600  # 2026-01-01 00:00 UTC


def _results(session, run, *, pnl: float, step: float, **metrics):
    services.session_results_save(
        session=session,
        run=run,
        metrics={"total_pnl": pnl, "trade_count": 7, "profit_factor": 1.8, "fees_paid": 0.0004, **metrics},
        equity=[[START + k * 600, 1 + k * step] for k in range(20)],
        status="completed",
    )
    return Run.objects.get(pk=run.pk)


@pytest.fixture
def sweep(new_session):
    session = new_session(
        status="completed", type="backtest", name="Sweep A", sweep={"threshold": [0.3, 0.6, 0.9]}
    )
    runs = [
        _results(session, run, pnl=pnl, step=step)
        for run, pnl, step in zip(
            session.runs.order_by("id"), (0.002, -0.001, 0.0005), (0.001, -0.0005, 0.0002), strict=True
        )
    ]
    return session, runs


@pytest.fixture
def plain(new_session):
    session = new_session(status="completed", type="backtest", name="Plain ETH", market="ETHUSD")
    return session, _results(session, session.runs.get(), pnl=12.5, step=2.0, win_rate=61.5)


def _series(html: str) -> list[dict]:
    """The compare chart's series, as the page's json_script block gives them to the browser."""
    block = re.search(r'<script id="compare-series" type="application/json">(.*?)</script>', html, re.S)
    assert block, "no series block"
    return json.loads(block.group(1))


def test_it_shows_runs_of_two_sessions_side_by_side_with_one_chart(operator_client, sweep, plain):
    (sweep_session, (a, _, _)), (plain_session, c) = sweep, plain

    response = operator_client.get(f"/compare/?runs={a.pk},{c.pk}")

    html = response.content.decode()
    assert response.status_code == 200
    assert '<h1 class="detail-title">Compare</h1>' in html
    columns = re.findall(r'<th scope="col" data-run-id="(\d+)"', html)
    assert columns == [str(a.pk), str(c.pk)]  # in the order asked
    for label in ("Run", "Parameters", "Status", "Trades", "Total PnL", "Win Rate", "Max Drawdown"):
        assert f'<th scope="row">{label}</th>' in html, label
    for label in ("Sharpe", "Profit Factor", "Return", "Fees Paid"):
        assert f'<th scope="row">{label}</th>' in html, label
    assert "Sweep A" in html and "Plain ETH" in html
    assert a.config_hash in html and c.config_hash in html
    assert "threshold=0.3" in html
    assert "+0.00200000 XBT" in html  # each run's PnL in its own currency
    assert "+12.50 USD" in html or "+12.50 USDT" in html
    assert f'href="/sessions/{sweep_session.pk}/?run={a.config_hash}"' in html
    assert f'href="/sessions/{plain_session.pk}/?run={c.config_hash}"' in html
    # One chart (drawn in the browser from the page's series), a legend naming both runs.
    assert html.count('data-chart="compare"') == 1
    series = _series(html)
    assert [s["label"] for s in series] == [f"Sweep A · {a.config_hash}", f"Plain ETH · {c.config_hash}"]
    assert len({s["colour"] for s in series}) == 2 and all(len(s["points"]) == 20 for s in series)
    assert html.count('<ul class="legend">') == 1
    # XBT and USD curves share no scale: the chart shows each one's return from its start.
    assert 'data-as-return="true"' in html and "percent return" in html


def test_runs_of_one_sweep_share_its_currency_axis(operator_client, sweep):
    _, (a, b, c) = sweep

    html = operator_client.get(f"/compare/?runs={a.pk}&runs={b.pk}&runs={c.pk}").content.decode()

    assert len(re.findall(r'<th scope="col" data-run-id=', html)) == 3
    assert [s["currency"] for s in _series(html)] == ["XBT", "XBT", "XBT"]
    assert 'aria-label="Equity curves in XBT"' in html and 'data-as-return="false"' in html


def test_sessions_from_history_compare_their_best_runs(operator_client, sweep, plain):
    (sweep_session, (a, _, _)), (plain_session, c) = sweep, plain

    response = operator_client.get(f"/compare/?sessions={plain_session.pk}&sessions={sweep_session.pk}")

    assert response.status_code == 200
    columns = re.findall(r'<th scope="col" data-run-id="(\d+)"', response.content.decode())
    assert columns == [str(c.pk), str(a.pk)]  # the sweep's most profitable run


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("", 400, "runs: Required"),
        ("?runs=1", 400, "Compare takes 2 to 8 ids (got 1)"),
        ("?runs=1,2,3,4,5,6,7,8,9", 400, "Compare takes 2 to 8 ids (got 9)"),
        ("?runs=1,x", 400, "Must be a comma list of whole numbers"),
        ("?runs=1&runs=1", 400, "duplicates"),
        ("?runs=987654,987655", 404, "No run 987654, 987655"),
        ("?sessions=nope-1,nope-2", 400, "Must be a comma list of session ids"),
        ("?sessions=abc", 400, "sessions: Compare takes 2 to 8 ids (got 1)"),
        ("?sessions=abc,def", 404, "No session abc, def with a run"),
        # Compare pressed with nothing ticked: the form's empty field names what is missing.
        ("?sessions=", 400, "sessions: Required"),
        ("?runs=&runs=7", 400, "Compare takes 2 to 8 ids (got 1)"),
    ],
)
def test_bad_input_is_a_page_with_a_clear_message(operator_client, sweep, query, status, message):
    response = operator_client.get(f"/compare/{query}")

    html = response.content.decode()
    assert response.status_code == status
    assert '<p class="form-error">' in html and message in html
    assert "Pick 2 to 8 runs" in html
    assert "<svg" not in html


def test_names_are_escaped_in_table_and_chart(operator_client, new_session):
    first = new_session(status="completed", type="backtest", name=XSS)
    second = new_session(status="completed", type="backtest", name=f"{XSS} two")
    runs = [_results(s, s.runs.get(), pnl=0.001, step=0.001) for s in (first, second)]

    html = operator_client.get(f"/compare/?runs={runs[0].pk},{runs[1].pk}").content.decode()

    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # The chart's labels travel as JSON that no script tag can end early.
    assert _series(html)[0]["label"].startswith(XSS)
    assert "\\u003Cscript\\u003E" in html


def test_a_viewer_may_compare_and_anonymous_users_log_in_first(viewer_client, client, sweep):
    _, (a, b, _) = sweep

    assert viewer_client.get(f"/compare/?runs={a.pk},{b.pk}").status_code == 200
    anonymous = client.get(f"/compare/?runs={a.pk},{b.pk}")
    assert anonymous.status_code == 302 and "/accounts/login/" in anonymous["Location"]


def test_a_sweeps_runs_table_has_a_checkbox_per_run_and_a_compare_form(operator_client, sweep):
    session, runs = sweep

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert '<form id="compare-runs" method="get" action="/compare/"' in html
    boxes = re.findall(r'<input type="checkbox" name="runs" value="(\d+)" form="compare-runs"', html)
    assert sorted(boxes) == sorted(str(r.pk) for r in runs)
    assert ">Compare</button>" in html


def test_a_sweeps_runs_table_pages_and_sorts(operator_client, new_session):
    session = new_session(
        status="completed", type="backtest", sweep={"threshold": [k / 100 for k in range(1, 31)]}
    )
    runs = list(session.runs.order_by("id"))
    for k, run in enumerate(runs):
        services.session_results_save(
            session=session, run=run, metrics={"total_pnl": k * 0.001, "trade_count": 30 - k}
        )

    first = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    second = operator_client.get(f"/sessions/{session.pk}/?runs_page=2").content.decode()
    by_trades = operator_client.get(
        f"/sessions/{session.pk}/?runs_sort=trade_count&runs_dir=asc"
    ).content.decode()
    unknown = operator_client.get(f"/sessions/{session.pk}/?runs_sort=error&runs_page=x")

    def shown(html):
        return re.findall(r'href="\?run=([0-9a-f]+)"', html)

    assert "Showing 1-25 of 30 runs" in first and "Showing 26-30 of 30 runs" in second
    assert shown(first) + shown(second) == [r.config_hash for r in reversed(runs)]  # by profit, no run twice
    assert 'href="?runs_page=2#runs"' in first
    assert shown(by_trades)[:2] == [runs[-1].config_hash, runs[-2].config_hash]  # fewest trades first
    assert 'aria-sort="ascending"' in by_trades
    assert "runs_sort=total_pnl&amp;runs_dir=desc&amp;runs_page=1#runs" in by_trades
    assert unknown.status_code == 200 and shown(unknown.content.decode()) == shown(first)  # the defaults


def test_history_rows_have_checkboxes_and_a_compare_form(operator_client, sweep, plain, new_session):
    scraper = new_session(status="stopped", type="scraper")

    html = operator_client.get("/history/?period=all", **HTMX).content.decode()

    assert '<form id="compare-sessions" method="get" action="/compare/"' in html
    boxes = re.findall(
        r'<input type="checkbox" name="sessions" value="([0-9a-f-]+)" form="compare-sessions"', html
    )
    assert sorted(boxes) == sorted([sweep[0].pk, plain[0].pk])  # a scraper has no runs to compare
    assert scraper.pk in html
