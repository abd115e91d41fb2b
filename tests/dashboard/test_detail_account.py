"""The detail view's account: leverage and sizing among the parameters, funding paid,
liquidations, Sortino and Calmar beside Sharpe, each trade's exit and funding, a liquidation
in words among the events and as its own kind of marker on the price chart."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sessions_app import selectors, services
from sessions_app.models import Trade
from sessions_app.selectors import ChartWindow

HOUR = 3600


def _metric(html: str, label: str) -> str:
    """The value shown under a metric's label."""
    found = re.search(
        rf'<span class="metric-label">{re.escape(label)}</span><span class="metric-value[^"]*"[^>]*>([^<]*)</span>',
        html,
    )
    assert found, label
    return found.group(1)


def _row(html: str, header: str) -> str:
    found = re.search(rf'<th scope="row">{re.escape(header)}</th><td[^>]*>(.*?)</td>', html)
    assert found, header
    return found.group(1)


def _trade(run, *, entry_time: int, exit_reason: str, funding: str, pnl: str) -> Trade:
    return Trade(
        run=run,
        market="XBTUSD",
        side="long",
        entry_time=entry_time,
        entry_price=Decimal("27000"),
        entry_size=100,
        exit_time=entry_time + HOUR,
        exit_price=Decimal("27350.5"),
        exit_size=100,
        realized_pnl=Decimal(pnl),
        fee=Decimal("0.5"),
        exit_reason=exit_reason,
        funding=Decimal(funding),
    )


@pytest.fixture
def liquidated_backtest(new_session):
    """A completed 2x backtest sized by equity: a trade closed by its signal, then one closed
    by a liquidation, with its event, and the metrics such a run has."""
    session = new_session(
        status="completed",
        type="backtest",
        market="ETHUSD",
        name="Leveraged ETH",
        strategy="SmaCross",  # a position size that may be a fraction
        leverage=2,
        sizing="equity",
        maintenance_margin_pct=0.5,
        funding=True,
        strategy_params={"position_size": 0.5},
    )
    run = selectors.session_best_run(session)
    start = session.range_start
    Trade.objects.bulk_create(
        [
            _trade(run, entry_time=start, exit_reason="signal", funding="1.25", pnl="12.5"),
            _trade(run, entry_time=start + 2 * HOUR, exit_reason="liquidation", funding="-0.75", pnl="-1000"),
        ]
    )
    metrics = {
        "total_pnl": -987.5,
        "trade_count": 2,
        "win_rate": 50.0,
        "max_drawdown": 100.0,
        "sharpe": -1.5,
        "sortino": None,
        "calmar": -0.42,
        "funding_paid": 0.5,
        "liquidations": 1,
        "return_pct": -100.0,
        "final_equity": 0.0,
        "currency": "USD",
    }
    services.session_results_save(session=session, run=run, metrics=metrics, equity=[[start, 1000.0]])
    services.event_record(
        session=session,
        event_type="liquidated",
        data={
            "time": start + 3 * HOUR,
            "market": "ETHUSD",
            "price": {"ETHUSD": 27350.5},
            "equity_before": 1000.0,
            "equity_after": 0.0,
            "insurance": 0.0,
            "currency": "USD",
        },
    )
    session.refresh_from_db()
    return session, run


def test_the_configuration_shows_leverage_sizing_margin_and_funding(operator_client, liquidated_backtest):
    session, _ = liquidated_backtest

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert _row(html, "leverage") == "2x"
    assert _row(html, "sizing") == "Share of equity"
    assert _row(html, "maintenance margin") == "0.5 %"
    assert _row(html, "funding") == "on"


def test_a_session_with_the_defaults_shows_1x_units_and_the_markets_rules(operator_client, new_session):
    session = new_session(status="completed", type="backtest")

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert _row(html, "leverage") == "1x"
    assert _row(html, "sizing") == "Units"
    assert _row(html, "maintenance margin") == "the market's"
    assert _row(html, "funding").startswith("market default")


def test_the_metrics_show_funding_liquidations_sortino_and_calmar(operator_client, liquidated_backtest):
    session, _ = liquidated_backtest

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert _metric(html, "Sharpe") == "-1.50"
    assert _metric(html, "Sortino") == "—"  # undefined
    assert _metric(html, "Calmar") == "-0.42"
    assert _metric(html, "Funding Paid") == "+0.50 USD"
    assert _metric(html, "Liquidations") == "1"
    assert _metric(html, "Return") == "-100.00%"


def test_the_trades_table_says_how_each_trade_ended_and_its_funding(operator_client, liquidated_backtest):
    session, _ = liquidated_backtest

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()
    table = html[html.index('<div id="trades"') :]
    headers = re.findall(r'<th scope="col"[^>]*>([^<]*)</th>', table[: table.index("</thead>")])
    rows = re.findall(r"<tr>(.*?)</tr>", table[table.index("<tbody>") : table.index("</tbody>")], re.S)
    cells = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in rows]

    assert headers == ["Time", "Side", "Entry Price", "Exit Price", "Exit", "Funding", "PnL", "Duration"]
    exits = [row[headers.index("Exit")] for row in cells]
    funding = [row[headers.index("Funding")] for row in cells]
    assert exits == ["Liquidation", "Signal"]  # newest first
    assert funding == ["-0.75 USD", "+1.25 USD"]
    assert 'class="exit-reason exit-liquidation"' in table


def test_the_liquidated_event_is_told_in_words(operator_client, liquidated_backtest):
    session, _ = liquidated_backtest

    html = operator_client.get(f"/sessions/{session.pk}/").content.decode()

    assert "Liquidated at 27,350.5: equity 1,000.00 -&gt; 0.00 USD" in html
    assert 'badge-liquidated">liquidated<' in html


def test_the_chart_marks_the_liquidation_as_its_own_kind(liquidated_backtest):
    session, run = liquidated_backtest

    markers = selectors.session_chart(session=session, run=run, window=ChartWindow())["markers"]

    kinds = [(m["kind"], m["time"] - session.range_start) for m in markers]
    assert kinds == [("entry", 0), ("exit", HOUR), ("entry", 2 * HOUR), ("liquidation", 3 * HOUR)]


def test_the_chart_api_answers_the_liquidation_marker(operator_api, liquidated_backtest):
    session, _ = liquidated_backtest

    answer = operator_api.get(f"/api/sessions/{session.pk}/chart").json()

    assert answer["success"] is True
    assert [m["kind"] for m in answer["markers"]].count("liquidation") == 1
    liquidation = next(m for m in answer["markers"] if m["kind"] == "liquidation")
    assert liquidation["pnl"] == -1000.0
