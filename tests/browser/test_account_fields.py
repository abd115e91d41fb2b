"""The modal's account fields: a leverage of 0 is refused under Leverage, a 2x backtest sized
by equity is created, its detail view says so, and its clone opens with the same account."""

from decimal import Decimal

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session
from tests.browser.helpers import open_new_session_modal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _field(dialog, label: str):
    """The .field block holding the input labelled `label` (`has` is relative to the block)."""
    return dialog.locator(".field", has=dialog.page.get_by_label(label, exact=True))


def test_a_leveraged_backtest_sized_by_equity_is_refused_at_0x_then_made_and_cloned(
    operator_page, screenshot
):
    page = operator_page
    dialog = open_new_session_modal(page)
    dialog.get_by_role("radio", name="Backtest").check()
    expect(dialog.get_by_label("Start Date", exact=True)).to_be_visible()
    dialog.get_by_label("Market", exact=True).select_option("XBTUSD")
    # SMA Cross: a position size that may be a fraction (TestBot's is a whole number).
    dialog.get_by_label("Strategy", exact=True).select_option("SmaCross")
    expect(dialog.get_by_label("Fast SMA", exact=True)).to_be_visible()  # re-rendered for it
    expect(dialog.get_by_label("Leverage", exact=True)).to_have_value("1")  # the default
    expect(dialog.get_by_label("Sizing", exact=True)).to_have_value("units")
    expect(dialog.get_by_label("Maintenance margin %", exact=True)).to_have_value("")  # the market's
    expect(dialog.get_by_label("Funding", exact=True)).to_have_value("")  # the market's default
    dialog.get_by_label("Position Size", exact=True).fill("0.5")
    dialog.get_by_label("Sizing", exact=True).select_option(label="Share of equity")
    dialog.get_by_label("Leverage", exact=True).fill("0")
    dialog.get_by_label("Start Date", exact=True).fill("2026-01-01")
    dialog.get_by_label("End Date", exact=True).fill("2026-01-07")
    dialog.get_by_label("Session Name (optional)", exact=True).fill("Leveraged XBT")
    dialog.get_by_role("button", name="Create", exact=True).click()

    error = _field(dialog, "Leverage").locator(".field-error")
    expect(error).to_be_visible()
    expect(error).to_contain_text("Must be from 1 to")  # the services' message, naming the bound
    expect(dialog.get_by_label("Leverage", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Leverage", exact=True)).to_have_value("0")  # what was typed stays
    expect(dialog.get_by_label("Sizing", exact=True)).to_have_value("equity")
    expect(dialog.locator(".field-error")).to_have_count(1)  # only Leverage is wrong
    error.scroll_into_view_if_needed()
    screenshot(page, "modal-leverage-error")
    assert Session.objects.count() == 0

    dialog.get_by_label("Leverage", exact=True).fill("2")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog).to_be_hidden()
    session = Session.objects.get(name="Leveraged XBT")
    assert (session.type, session.leverage, session.sizing) == ("backtest", Decimal("2"), "equity")
    assert (session.maintenance_margin_pct, session.funding) == (None, None)
    assert session.strategy_params["position_size"] == 0.5

    page.goto(f"/sessions/{session.pk}/")
    parameters = page.locator("table.kv")
    expect(parameters.locator("tr", has=page.locator("th", has_text="leverage"))).to_contain_text("2x")
    expect(parameters.locator("tr", has=page.locator("th", has_text="sizing"))).to_contain_text(
        "Share of equity"
    )

    page.get_by_role("button", name="Clone").click()
    clone_dialog = page.get_by_role("dialog", name="Edit Session")
    expect(clone_dialog).to_be_visible()
    expect(clone_dialog.get_by_label("Leverage", exact=True)).to_have_value("2")
    expect(clone_dialog.get_by_label("Sizing", exact=True)).to_have_value("equity")
    expect(clone_dialog.get_by_label("Position Size", exact=True)).to_have_value("0.5")
    screenshot(page, "clone-account")
    clone = Session.objects.get(cloned_from=session)
    assert (clone.leverage, clone.sizing) == (Decimal("2"), "equity")


HOUR = 3600
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture
def liquidated(no_worker, operator):
    """A 2x backtest of two days, ended by the services as a worker would leave a run that a
    liquidation closed: a trade closed by its signal, one by the liquidation, its event."""
    from sessions_app import selectors, services
    from sessions_app.models import Trade

    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "name": "Liquidated XBT",
            "leverage": 2,
            "range_start": RANGE_START,
            "range_end": RANGE_START + 2 * 86_400,
        },
    )
    services.session_start(session=session)
    run = selectors.session_best_run(session)
    trade = dict(run=run, market="XBTUSD", side="long", entry_size=100, exit_size=100, fee=Decimal("0"))
    Trade.objects.bulk_create(
        [
            Trade(entry_time=RANGE_START + 6 * HOUR, exit_time=RANGE_START + 9 * HOUR, entry_price=Decimal("50000"),
                  exit_price=Decimal("50100"), realized_pnl=Decimal("0.00001"), **trade),
            Trade(entry_time=RANGE_START + 20 * HOUR, exit_time=RANGE_START + 30 * HOUR, entry_price=Decimal("50000"),
                  exit_price=Decimal("27350.5"), realized_pnl=Decimal("-0.001"), exit_reason="liquidation", **trade),
        ]
    )  # fmt: skip
    metrics = {
        "trade_count": 2,
        "total_pnl": -0.00099,
        "liquidations": 1,
        "funding_paid": 0.0,
        "currency": "XBT",
    }
    equity = [[RANGE_START + k * HOUR, 0.001 if k < 30 else 0.0] for k in range(48)]
    services.session_results_save(session=session, run=run, metrics=metrics, equity=equity)
    services.event_record(
        session=session,
        event_type="liquidated",
        data={"time": RANGE_START + 30 * HOUR, "market": "XBTUSD", "price": {"XBTUSD": 27350.5},
              "equity_before": 0.001, "equity_after": 0.0, "insurance": 0.0, "currency": "XBT"},
    )  # fmt: skip
    assert services.session_finish(session=session, status="completed")
    return Session.objects.get(pk=session.pk)


def test_the_price_chart_marks_the_liquidation_and_the_events_tell_it(operator_page, liquidated, screenshot):
    page = operator_page
    page.goto(f"/sessions/{liquidated.pk}/")

    chart = page.locator('[data-chart="price"]')
    expect(chart).to_have_attribute("data-ready", "true")
    expect(chart).to_have_attribute("data-markers", "4")  # two entries, an exit, a liquidation
    expect(chart).to_have_attribute("data-liquidations", "1")
    events = page.locator("ol.events")
    expect(events).to_contain_text("Liquidated at 27,350.5: equity 0.00100000 -> 0.00000000 XBT")
    trades = page.locator("#trades")
    expect(trades.locator("td.exit-liquidation")).to_have_text("Liquidation")
    chart.scroll_into_view_if_needed()
    screenshot(page, "chart-liquidation")
    screenshot(page, "detail-liquidated", full_page=True)
