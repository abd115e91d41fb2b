"""Compare: two runs picked in a sweep's runs table open side by side, table and chart."""

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import Run, Session

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture
def sweep(no_worker, operator):
    """A finished sweep of three runs, each with results and an equity curve, as a worker leaves it."""
    data = {
        "type": "backtest",
        "market": "XBTUSD",
        "strategy": "TestBot",
        "name": "Threshold sweep",
        "range_start": RANGE_START,
        "range_end": RANGE_START + 2 * DAY,
        "sweep": {"threshold": [0.3, 0.5, 0.7]},
    }
    session = services.session_create(user=operator, data=data)
    services.session_start(session=session)
    for k, run in enumerate(session.runs.order_by("id")):
        growth = (0.0004, -0.0002, 0.0001)[k]
        services.session_results_save(
            session=session,
            run=run,
            metrics={
                "total_pnl": growth * 47,
                "trade_count": 12 + k,
                "win_rate": 55.0 - 5 * k,
                "sharpe": 1.4 - k,
                "profit_factor": 1.6 - 0.3 * k,
                "return_pct": growth * 4700,
                "fees_paid": 0.0001,
                "currency": "XBT",
            },
            equity=[
                [RANGE_START + m * 3600, 1 + growth * m + 0.0003 * ((m * (k + 3)) % 5)] for m in range(48)
            ],
            status="completed",
        )
    assert services.session_finish(session=session, status="completed")
    return Session.objects.get(pk=session.pk)


def test_two_runs_picked_in_a_sweep_open_side_by_side(operator_page, sweep, screenshot):
    best, worst = (
        Run.objects.get(session=sweep, params__threshold=0.3),
        Run.objects.get(session=sweep, params__threshold=0.5),
    )
    page = operator_page
    page.goto(f"/sessions/{sweep.pk}/")
    runs = page.locator("#runs")
    expect(runs.get_by_role("heading")).to_contain_text("RUNS (3)")

    runs.get_by_role("checkbox", name=f"Compare run {best.config_hash}").check()
    runs.get_by_role("checkbox", name=f"Compare run {worst.config_hash}").check()
    screenshot(page, "sweep-runs", full_page=True)
    runs.get_by_role("button", name="Compare").click()

    expect(page.get_by_role("heading", name="Compare", exact=True)).to_be_visible()
    assert f"runs={best.pk}" in page.url and f"runs={worst.pk}" in page.url
    table = page.locator(".compare-table")
    expect(table.locator("thead th[data-run-id]")).to_have_count(2)
    expect(table.locator("thead")).to_contain_text("Threshold sweep")
    expect(table).to_contain_text(best.config_hash)
    expect(table).to_contain_text(worst.config_hash)
    expect(table).to_contain_text("threshold=0.3")
    expect(table).to_contain_text("threshold=0.5")
    chart = page.get_by_role("img", name="Equity curves in XBT")
    expect(chart).to_have_attribute("data-series", "2")  # two curves drawn by lightweight-charts
    assert chart.locator("canvas").count() > 0
    legend = page.locator(".legend li")
    expect(legend).to_have_text(
        [f"Threshold sweep · {best.config_hash}", f"Threshold sweep · {worst.config_hash}"]
    )
    screenshot(page, "compare", full_page=True)
