"""A backtest made in the Create New Session modal with Create & Start runs on the real worker,
leaves Running by itself and shows its results in the detail view."""

import re

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session
from tests.browser.helpers import open_new_session_modal, row, running_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = 86_400
# 120 days of 1m candles: about a second on the worker. Two days take a few hundred ms from
# start to end, less than the Running list may need to show the row at all.

# Every row seen with data-status="running" in the Running list, whatever swapped it in.
WATCH_RUNNING_ROWS = """() => {
  window.__pageLife = "original";
  window.__seenRunning = [];
  const note = () => document.querySelectorAll('#running-list [data-status="running"]').forEach(el => {
    if (!window.__seenRunning.includes(el.dataset.sessionId)) window.__seenRunning.push(el.dataset.sessionId);
  });
  new MutationObserver(note).observe(document.body, {subtree: true, childList: true, attributes: true});
  note();
}"""


def test_a_backtest_created_and_started_in_the_modal_goes_to_history_by_itself_with_its_results(
    operator_page, worker, screenshot
):
    page = operator_page
    page.evaluate(WATCH_RUNNING_ROWS)

    dialog = open_new_session_modal(page)
    expect(dialog.get_by_label("Start Date", exact=True)).to_have_count(0)  # backtests only
    dialog.get_by_role("radio", name="Backtest").check()
    expect(dialog.get_by_label("Start Date", exact=True)).to_be_visible()  # the form re-rendered for the type
    expect(dialog.get_by_role("radio", name="Backtest")).to_be_checked()
    dialog.get_by_label("Market", exact=True).select_option("XBTUSD")
    expect(dialog.get_by_label("Strategy", exact=True)).to_have_value("TestBot")
    expect(dialog.get_by_label("Threshold", exact=True)).to_have_value("0.5")  # the strategy's default
    dialog.get_by_label("Threshold", exact=True).fill("0.3")
    dialog.get_by_label("Start Date", exact=True).fill("2026-01-01")
    dialog.get_by_label("End Date", exact=True).fill("2026-04-30")  # inclusive: 120 days of 1m candles
    dialog.get_by_label("Session Name (optional)", exact=True).fill("Browser backtest XBT")
    screenshot(page, "modal")
    dialog.get_by_role("button", name="Create & Start").click()
    expect(dialog).to_be_hidden()

    session = Session.objects.get(name="Browser backtest XBT")
    assert (session.type, session.market, session.strategy, session.exchange) == (
        "backtest",
        "XBTUSD",
        "TestBot",
        "sim",
    )
    assert session.strategy_params["threshold"] == 0.3
    assert session.range_end - session.range_start == 120 * DAY

    # Running -> gone from Running, by the row's own polling: no reload, no click.
    running = running_section(page)
    page.wait_for_function("id => window.__seenRunning.includes(id)", arg=session.pk, timeout=15_000)
    expect(row(running, session.pk)).to_have_count(0, timeout=30_000)
    expect(running.get_by_role("heading")).to_have_text("RUNNING SESSIONS (0)")
    assert page.evaluate("window.__pageLife") == "original", "the page reloaded"
    session.refresh_from_db()
    assert session.status == "completed", session.error
    assert session.trade_count > 0

    page.get_by_role("link", name="History").click()
    history_row = row(page.locator("#history-table"), session.pk)
    expect(history_row).to_have_attribute("data-status", "completed")
    expect(history_row).to_contain_text("Browser backtest XBT")
    expect(history_row).to_contain_text("XBT")  # PnL with its currency

    history_row.get_by_role("link", name="View").click()
    expect(page.get_by_role("heading", name="Browser backtest XBT", level=1)).to_be_visible()

    def metric(label):
        return page.locator(
            ".metric", has=page.locator(".metric-label", has_text=re.compile(f"^{label}$"))
        ).locator(".metric-value")

    expect(metric("Total PnL")).to_have_text(re.compile(r"^[+-]?\d[\d,]*\.\d+ XBT$"))
    expect(metric("Win Rate")).to_have_text(re.compile(r"^\d+\.\d%$"))
    expect(metric("Trades")).to_have_text(f"{session.trade_count:,}")
    expect(metric("Max Drawdown")).to_have_text(re.compile(r"^-?\d+\.\d\d%$"))
    expect(metric("Sharpe")).to_have_text(re.compile(r"^-?\d[\d,]*\.\d\d$"))
    equity = page.locator("section[aria-labelledby=equity-title]")
    expect(equity).to_contain_text("EQUITY CURVE in XBT")
    expect(equity.locator('[data-chart="equity"]')).to_have_attribute("data-ready", "true")
    assert equity.locator("canvas").count() > 0
    trades = page.locator("#trades tbody tr")
    expect(trades).to_have_count(min(25, session.trade_count))
    expect(trades.first.locator("td").nth(1)).to_have_text(re.compile(r"^(LONG|SHORT)$"))
    expect(page.locator("#trades")).to_contain_text(f"of {session.trade_count:,} trades")
    logs = page.locator("#log-lines")
    expect(logs).not_to_contain_text("No log lines yet")
    expect(logs).to_contain_text("completed")
    screenshot(page, "detail")
    screenshot(page, "detail-full", full_page=True)
