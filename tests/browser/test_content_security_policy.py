"""The dashboard works under its Content-Security-Policy: clicking through the login, Running (a
backtest's row polling), Scrapers, History (a filter changed), a sweep's detail with its charts,
Compare and the create modal, Chromium refuses nothing. It reports a refusal in the console
("Refused to apply inline style ...") and as a securitypolicyviolation event; both are watched."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import Run, Session
from tests.browser.helpers import login, open_new_session_modal, path_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)
DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC

# Before any of the page's own scripts (an init script is not subject to the page's policy).
REPORT_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} ${event.blockedURI} ${event.sample || ""}`);
});
"""


class Violations:
    """Every refusal the pages report, with the page it happened on."""

    def __init__(self, page):
        self.page = page
        self.seen: list[str] = []
        page.add_init_script(REPORT_VIOLATIONS)
        page.on("console", self._console)

    def _console(self, message) -> None:
        text = message.text
        if "Refused to" in text or "Content Security Policy" in text or text.startswith("CSP violation"):
            self.seen.append(f"{path_of(self.page)}: {text}")


@pytest.fixture
def sweep(no_worker, operator):
    """A finished sweep of two runs with results and equity curves, and a backtest left running
    (no worker takes it), whose row polls with its progress bar."""
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "name": "Threshold sweep",
            "range_start": RANGE_START,
            "range_end": RANGE_START + 2 * DAY,
            "sweep": {"threshold": [0.3, 0.6]},
        },
    )
    services.session_start(session=session)
    for k, run in enumerate(session.runs.order_by("id")):
        services.session_results_save(
            session=session,
            run=run,
            metrics={"total_pnl": 0.01 - k * 0.02, "trade_count": 9, "win_rate": 55.0, "currency": "XBT"},
            equity=[[RANGE_START + m * 3600, 1 + (0.0004 - k * 0.0006) * m] for m in range(48)],
            status="completed",
        )
    assert services.session_finish(session=session, status="completed")
    running = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "TestBot",
            "name": "Still running",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
        },
    )
    services.session_start(session=running)
    return Session.objects.get(pk=session.pk)


def test_the_main_pages_run_under_the_policy_with_nothing_refused(page, operator, sweep):
    violations = Violations(page)

    answer = page.goto("/accounts/login/")
    assert answer.headers["content-security-policy"] == POLICY
    login(page, operator.username)
    running = page.locator("[data-session-id]", has_text="Still running")
    expect(running.locator("progress")).to_have_attribute("value", "0")
    page.wait_for_timeout(2_500)  # one poll of the running row

    page.get_by_role("link", name="Scrapers").click()
    expect(page.get_by_role("heading", name="AVAILABLE MARKETS (not scraping)")).to_be_visible()

    page.get_by_role("link", name="History").click()
    expect(page.get_by_text("Showing 1-1 of 1")).to_be_visible()
    page.get_by_label("Type").select_option("backtest")  # the select's own trigger, no eval
    expect(page).to_have_url(re.compile(r"type=backtest"))
    page.get_by_label("Period").select_option("all")
    expect(page).to_have_url(re.compile(r"period=all"))

    page.goto(f"/sessions/{sweep.pk}/")
    expect(page.locator('[data-chart="equity"] canvas').first).to_be_visible()
    expect(page.locator('[data-chart="price"] canvas').first).to_be_visible()
    expect(page.get_by_role("link", name="TradingView")).to_have_attribute(
        "href", "https://www.tradingview.com/"
    )
    runs = page.locator("#runs")
    for run in Run.objects.filter(session=sweep):
        runs.get_by_role("checkbox", name=f"Compare run {run.config_hash}").check()
    runs.get_by_role("button", name="Compare").click()
    expect(page.get_by_role("img", name="Equity curves in XBT")).to_have_attribute("data-series", "2")
    expect(page.locator(".legend svg.swatch")).to_have_count(2)

    page.goto("/")
    dialog = open_new_session_modal(page)
    dialog.get_by_role("radio", name="Backtest").check()  # swaps the form in through htmx
    expect(dialog.get_by_role("radio", name="Backtest")).to_be_checked()
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    assert violations.seen == []

    # The watch would have seen one: an inline <style> is refused and reported.
    page.evaluate(
        "() => { const s = document.createElement('style'); s.textContent = 'b{}'; document.head.append(s); }"
    )
    page.wait_for_timeout(200)
    assert violations.seen, "no refusal seen: the watch does not work"
