"""History: paging, filters, search and sort (all carried in the URL), and Clone."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sessions_app import services
from sessions_app.models import Session
from tests.browser.helpers import created_section, path_of, row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture
def finished(no_worker, operator):
    """`finished(name, type=..., market=..., status=...)`: a session made, started (queued for
    real, but no worker takes it) and ended by the services, as a worker would leave it."""

    def make(name, *, type="backtest", market="XBTUSD", status="completed", pnl="0"):
        data = {"type": type, "market": market, "strategy": "TestBot", "name": name}
        if type == "backtest":
            data.update(range_start=RANGE_START, range_end=RANGE_START + 2 * DAY)
        session = services.session_create(user=operator, data=data)
        services.session_start(session=session)
        assert services.session_finish(session=session, status=status)
        Session.objects.filter(pk=session.pk).update(total_pnl=Decimal(pnl))
        return Session.objects.get(pk=session.pk)

    return make


def _ids(table):
    return table.locator("tbody tr[data-session-id]").evaluate_all(
        "rows => rows.map(r => r.dataset.sessionId)"
    )


def test_history_pages_by_20_and_filters_searches_and_sorts_through_the_url(
    operator_page, finished, screenshot
):
    made = [finished(f"Alpha XBT backtest {i:02d}", pnl=f"0.00{i:02d}") for i in range(15)]
    made += [
        finished(f"Beta ETH live {i:02d}", type="test", market="ETHUSD", status="stopped") for i in range(8)
    ]
    made += [
        finished(f"Beta ETH needle {i}", type="test", market="ETHUSD", status="failed") for i in range(2)
    ]
    assert len(made) == 25

    page = operator_page
    page.get_by_role("link", name="History").click()
    table = page.locator("#history-table")
    pager = table.get_by_role("navigation", name="Pages")
    expect(pager).to_contain_text("Showing 1-20 of 25")
    expect(table.locator("tbody tr[data-session-id]")).to_have_count(20)
    screenshot(page, "history")
    first_page = _ids(table)

    pager.get_by_role("link", name="Next >").click()
    expect(pager).to_contain_text("Showing 21-25 of 25")
    expect(table.locator("tbody tr[data-session-id]")).to_have_count(5)
    assert "page=2" in path_of(page)
    assert set(first_page) | set(_ids(table)) == {s.pk for s in made}  # every one, once

    page.get_by_label("Type", exact=True).select_option("backtest")
    expect(pager).to_contain_text("Showing 1-15 of 15")  # a filter goes back to page 1
    expect(table.locator("tbody tr td:nth-child(2)")).to_have_text(["Backtest"] * 15)
    assert "type=backtest" in path_of(page) and "page=2" not in path_of(page)

    page.get_by_label("Type", exact=True).select_option("")
    page.get_by_label("Market", exact=True).select_option("ETHUSD")
    expect(pager).to_contain_text("Showing 1-10 of 10")
    expect(table.locator("tbody tr td:nth-child(3)")).to_have_text(["ETHUSD"] * 10)
    assert "market=ETHUSD" in path_of(page)

    page.get_by_placeholder("Search...").press_sequentially("needle")
    expect(pager).to_contain_text("Showing 1-2 of 2")
    expect(table.locator("tbody tr[data-session-id]")).to_have_text([re.compile("Beta ETH needle")] * 2)
    expect(table.locator("tbody tr[data-status=failed]")).to_have_count(2)
    assert "q=needle" in path_of(page) and "market=ETHUSD" in path_of(page)

    # The URL alone brings the same view back.
    page.reload()
    expect(pager).to_contain_text("Showing 1-2 of 2")
    expect(page.get_by_label("Market", exact=True)).to_have_value("ETHUSD")
    expect(page.get_by_placeholder("Search...")).to_have_value("needle")

    # Sorting by PnL, most profitable first, within the filters of the URL.
    page.goto("/history/?type=backtest")
    table.get_by_role("link", name="PnL").click()
    expect(table.locator("th[aria-sort=descending]")).to_contain_text("PnL")
    expect(table.locator("tbody tr[data-session-id]").first).to_contain_text("Alpha XBT backtest 14")
    assert "sort=pnl" in path_of(page) and "type=backtest" in path_of(page)
    table.get_by_role("link", name=re.compile("^PnL")).click()
    expect(table.locator("th[aria-sort=ascending]")).to_contain_text("PnL")
    expect(table.locator("tbody tr[data-session-id]").first).to_contain_text("Alpha XBT backtest 00")


def test_clone_from_history_makes_a_created_copy_that_waits_on_the_running_tab(operator_page, finished):
    source = finished("Clone source", pnl="0.0012")
    page = operator_page
    page.get_by_role("link", name="History").click()
    source_row = row(page.locator("#history-table"), source.pk)
    expect(source_row).to_have_attribute("data-status", "completed")

    source_row.get_by_role("button", name="Clone").click()
    dialog = page.get_by_role("dialog", name="Edit Session")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Session Name (optional)", exact=True)).to_have_value("Clone of Clone source")
    expect(dialog.get_by_role("radio", name="Backtest")).to_be_checked()
    expect(dialog.get_by_label("Start Date", exact=True)).to_have_value("2026-01-01")
    expect(page.locator("#toasts")).to_contain_text("Cloned as Clone of Clone source")
    clone = Session.objects.get(cloned_from=source)
    assert (clone.status, clone.name, clone.market, clone.range_start, clone.range_end) == (
        "created",
        "Clone of Clone source",
        source.market,
        source.range_start,
        source.range_end,
    )
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()

    page.get_by_role("link", name="Running Sessions").click()
    pending = row(created_section(page), clone.pk)
    expect(pending).to_have_attribute("data-status", "created")
    expect(pending).to_contain_text("Clone of Clone source")
    expect(pending).to_contain_text("2026-01-01 → 2026-01-02")  # the last day, as the modal shows it
    expect(page.get_by_role("heading", name="PENDING / CREATED (1)")).to_be_visible()
    assert Session.objects.count() == 2
