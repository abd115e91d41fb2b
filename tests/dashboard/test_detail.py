"""The detail view: header, metrics, equity and price charts, trades, parameters, logs, runs."""

import re
from pathlib import Path

import numpy as np

from bots import archive
from bots.candles import Candles
from sessions_app.models import Session
from tests.dashboard.conftest import HTMX

XSS = "<script>alert(1)</script>"


def test_it_shows_header_metrics_charts_trades_and_parameters(operator_client, new_session, with_results):
    session = new_session(status="completed", type="backtest", name="BTC Test #12")
    with_results(session, trades=3)

    response = operator_client.get(f"/sessions/{session.pk}/")

    html = response.content.decode()
    assert response.status_code == 200
    assert "BTC Test #12" in html
    assert "TestBot • XBTUSD • Completed" in html
    assert ">Clone<" in html and ">Close<" in html
    for label in (
        "METRICS",
        "Total PnL",
        "Win Rate",
        "Trades",
        "Max Drawdown",
        "Sharpe",
        "Return",
        "Profit Factor",
        "Avg Trade",
        "Best Trade",
        "Worst Trade",
        "Fees Paid",
        "Exposure",
        "Final Equity",
        "EQUITY CURVE",
        "PRICE",
        "TRADES",
        "Parameters",
        "Logs",
        "Events",
    ):
        assert label in html, label
    assert "+0.00150000 XBT" in html
    assert "66.7%" in html
    # The charts are drawn in the browser from the chart endpoint (tests/browser/test_charts.py);
    # the page carries their boxes, the library from static and no SVG of its own.
    chart_url = f'data-url="/api/sessions/{session.pk}/chart?market=XBTUSD&amp;run='
    assert 'data-chart="equity"' in html and chart_url in html
    assert 'EQUITY CURVE <span class="muted small">in XBT' in html
    assert "/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js" in html
    assert "<svg" not in html and "<polyline" not in html
    assert "LONG" in html and "SHORT" in html
    assert "threshold" in html and "0.5" in html


def test_names_and_params_are_escaped_in_page_and_charts(operator_client, new_session, with_results):
    session = new_session(status="completed", name=XSS, notes=XSS)
    with_results(session)

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_trades_are_paged(operator_client, new_session, with_results):
    session = new_session(status="completed")
    with_results(session, trades=30)

    first = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    second = operator_client.get(f"/sessions/{session.pk}/trades/?page=2", **HTMX).content.decode()

    assert "Showing 1-25 of 30 trades" in first
    assert "Showing 26-30 of 30 trades" in second
    assert second.count("<tr>") == 5 + 1  # five trades and the header


def test_a_running_session_polls_its_metrics_and_logs(operator_client, new_session, data_root):
    session = new_session(status="running")
    log = data_root / "logs" / f"session_{session.pk}.log"
    log.parent.mkdir(parents=True)
    log.write_text("line one\nline two\n")
    Session.objects.filter(pk=session.pk).update(logs_file=str(log))

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    size = log.stat().st_size
    log.write_text("line one\nline two\nline three\n")
    follow = operator_client.get(f"/sessions/{session.pk}/logs/?offset={size}", **HTMX).content.decode()

    assert ">Stop<" in html
    assert html.count('hx-trigger="every 2s"') == 3  # the live block, the newest trades, the log follower
    assert "line one" in html and "line two" in html
    assert f"/sessions/{session.pk}/logs/?offset={size}" in html
    assert 'hx-swap-oob="beforeend:#log-lines"' in follow
    assert "line three" in follow and "line one" not in follow
    assert 'hx-trigger="every 2s"' in follow


def test_a_log_path_outside_data_root_is_not_shown(operator_client, new_session, data_root, tmp_path):
    session = new_session(status="running")
    outside = tmp_path / "not-a-log.txt"
    outside.write_text("secret: hunter2\n")
    Session.objects.filter(pk=session.pk).update(logs_file=str(outside))

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    follow = operator_client.get(f"/sessions/{session.pk}/logs/?offset=0", **HTMX).content.decode()

    assert "hunter2" not in html and "hunter2" not in follow


def test_a_finished_session_does_not_poll(operator_client, new_session):
    session = new_session(status="stopped")

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    live = operator_client.get(f"/sessions/{session.pk}/live/?was=running", **HTMX)

    assert "every 2s" not in html
    assert "every 2s" not in live.content.decode()
    assert live["HX-Refresh"] == "true"


def test_a_sweep_lists_its_runs_by_profit_and_opens_one(operator_client, new_session):
    from sessions_app import services

    session = new_session(status="completed", type="backtest", sweep={"threshold": [0.3, 0.5, 0.7]})
    runs = list(session.runs.order_by("id"))
    for k, run in enumerate(runs):
        services.session_results_save(
            session=session, run=run, metrics={"total_pnl": k * 0.001, "trade_count": k}
        )

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    chosen = operator_client.get(f"/sessions/{session.pk}/?run={runs[0].config_hash}")

    assert "RUNS (3)" in html
    hashes = re.findall(r'href="\?run=([0-9a-f]+)"', html)
    assert hashes == [runs[2].config_hash, runs[1].config_hash, runs[0].config_hash]
    assert chosen.status_code == 200
    assert f"run {runs[0].config_hash}" in chosen.content.decode()
    assert operator_client.get(f"/sessions/{session.pk}/?run=ffffffffffff").status_code == 404


def test_a_viewer_sees_no_action_buttons(viewer_client, new_session):
    created = new_session()
    running = new_session(status="running")

    for session in (created, running):
        html = viewer_client.get(f"/sessions/{session.pk}/").content.decode()
        for label in (">Stop<", ">Start<", ">Edit<", ">Clone<"):
            assert label not in html
        assert ">Close<" in html


def test_a_scraper_shows_data_points_and_archive(operator_client, new_session):
    session = new_session(status="running", type="scraper")
    Session.objects.filter(pk=session.pk).update(progress_done=1500)

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert "1,500" in html and "Data points" in html
    assert "/archive/sim/XBTUSD/" in html


def test_an_unknown_session_is_404(operator_client, db):
    assert operator_client.get("/sessions/nope/").status_code == 404


def test_logs_only_come_from_the_sessions_own_file(operator_client, new_session):
    session = new_session(status="running")

    response = operator_client.get(f"/sessions/{session.pk}/logs/?offset=0&path=/etc/passwd", **HTMX)

    assert response.status_code == 200
    assert "root:" not in response.content.decode()
    assert Path("/etc/passwd").exists()


def test_it_links_the_trades_csv_download(operator_client, new_session, with_results):
    single = new_session(status="completed", type="backtest")
    with_results(single)
    sweep = new_session(status="completed", type="backtest", sweep={"threshold": [0.2, 0.4]})
    best = sweep.runs.order_by("id").last()

    single_html = operator_client.get(f"/sessions/{single.pk}/").content.decode()
    sweep_html = operator_client.get(f"/sessions/{sweep.pk}/?run={best.config_hash}").content.decode()

    assert f'href="/api/sessions/{single.pk}/trades?format=csv" download>Download CSV<' in single_html
    assert "All runs (CSV)" not in single_html
    assert (
        f'href="/api/sessions/{sweep.pk}/trades?format=csv&amp;run={best.config_hash}" download>Download CSV<'
        in sweep_html
    )
    assert f'href="/api/sessions/{sweep.pk}/trades?format=csv" download>All runs (CSV)<' in sweep_html
    # The link works with the browser's session login, as the page does.
    response = operator_client.get(f"/api/sessions/{single.pk}/trades?format=csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    assert len(b"".join(response.streaming_content).decode().splitlines()) == 1 + 3


def test_a_scrapers_view_data_shows_the_archive_day_by_day_with_gaps(
    operator_client, new_session, settings, tmp_path
):
    settings.DATA_ROOT = tmp_path
    start = 1_717_200_000 - 1_717_200_000 % 86_400  # 2024-06-01
    times = np.arange(start + 3600, start + 5 * 86_400, 60, dtype=np.int64)  # the first day from 01:00
    times = times[
        (times < start + 2 * 86_400) | (times >= start + 3 * 86_400 + 600)
    ]  # day 3 gone, day 4 late
    close = np.full(len(times), 60_000.0)
    archive.write(tmp_path, "sim", "XBTUSD", "1m", Candles(times, close, close, close, close, close))
    session = new_session(status="running", type="scraper")

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    days = re.findall(r'data-day="([\d-]+)" data-count="(\d+)"( data-gap="true")?', html)
    assert days == [
        ("2024-06-01", "1380", ""),  # the archive's first day: partial, not a gap
        ("2024-06-02", "1440", ""),
        ("2024-06-03", "0", ' data-gap="true"'),
        ("2024-06-04", "1430", ' data-gap="true"'),
        ("2024-06-05", "1440", ""),
    ]
    assert "5 days, 2 with gaps" in html and "June 2024" in html
    assert 'data-chart="price"' in html and 'data-chart="equity"' not in html
