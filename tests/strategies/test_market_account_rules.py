"""A market row's account rules (lot, maximum leverage, maintenance margin, perpetual, funding
interval): KNOWN_MARKETS' for sim, whole units for imported markets, the exchanges' own
metadata after refresh_markets (recorded BitMEX instrument and Binance exchangeInfo answers)."""

from decimal import Decimal

import pytest
from django.core.management import call_command

from bots.exchanges.bitmex import instrument_listing
from bots.exchanges.ccxt_exchange import ccxt_listing
from bots.markets import KNOWN_MARKETS
from strategies_app.models import Market
from strategies_app.services import market_create
from tests.bots.exchange_server import RecordedExchangeServer

pytestmark = pytest.mark.django_db

RULES = ("lot_size", "max_leverage", "maintenance_margin_pct", "perpetual", "funding_interval_hours")


@pytest.fixture
def exchanges(settings):
    with RecordedExchangeServer() as server:
        settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "bitmex": server.url, "binance": server.url}
        yield server


def _rules(market: Market) -> tuple:
    return tuple(getattr(market, name) for name in RULES)


def test_sim_markets_carry_the_seed_lists_rules_into_the_engines_spec():
    xbt = Market.objects.get(exchange="sim", symbol="XBTUSD")
    assert _rules(xbt) == (Decimal(1), Decimal(100), Decimal("0.35"), True, Decimal(8))
    sol = Market.objects.get(exchange="sim", symbol="SOLUSD").spec()
    assert (sol.lot_size, sol.max_leverage, sol.maintenance_margin_pct, sol.perpetual) == (
        0.01,
        25.0,
        1.0,
        True,
    )
    for market in Market.objects.filter(exchange="sim"):
        seed = KNOWN_MARKETS[market.symbol]
        spec = market.spec()
        assert tuple(getattr(spec, name) for name in RULES) == tuple(getattr(seed, name) for name in RULES)


def test_an_imported_market_trades_whole_units_and_pays_no_funding():
    spec = market_create(exchange="local", symbol="GOOG").spec()
    assert (spec.lot_size, spec.perpetual) == (1.0, False)


def test_bitmex_metadata_gives_lot_leverage_maintenance_margin_and_funding_interval(exchanges):
    call_command("refresh_markets", "bitmex", "--all")

    xbt = Market.objects.get(exchange="bitmex", symbol="XBTUSD")
    # lotSize 100 contracts, initMargin 0.01 -> 100x, maintMargin 0.0035 -> 0.35 %, FFWCSX
    assert _rules(xbt) == (Decimal(100), Decimal(100), Decimal("0.35"), True, Decimal(8))
    sol = Market.objects.get(exchange="bitmex", symbol="SOLUSD")
    assert (sol.max_leverage, sol.maintenance_margin_pct) == (Decimal(20), Decimal("2.5"))
    # A linear contract's lot in coins: 1000 position units of 1e6 per XBT.
    assert Market.objects.get(exchange="bitmex", symbol="XBTUSDT").lot_size == Decimal("0.001")


def test_a_bitmex_dated_future_is_no_perpetual():
    listing = instrument_listing(
        {"symbol": "XBTH27", "typ": "FFCCSX", "tickSize": 0.5, "isInverse": True, "settlCurrency": "XBt",
         "initMargin": 0.02, "maintMargin": 0.01, "fundingInterval": None, "state": "Open"}
    )  # fmt: skip
    assert (listing.spec.perpetual, listing.spec.max_leverage, listing.spec.maintenance_margin_pct) == (
        False,
        50.0,
        1.0,
    )


def test_binance_spot_markets_are_unlevered_with_their_amount_step_as_lot(exchanges):
    call_command("refresh_markets", "binance")

    btc = Market.objects.get(exchange="binance", symbol="BTCUSDT")
    assert (btc.lot_size, btc.max_leverage, btc.perpetual) == (Decimal("0.00001"), Decimal(1), False)


def test_a_ccxt_swap_with_a_leverage_limit_is_a_levered_perpetual():
    listing = ccxt_listing(
        {
            "id": "BTCUSDT",
            "base": "BTC",
            "quote": "USDT",
            "settle": "USDT",
            "type": "swap",
            "swap": True,
            "linear": True,
            "precision": {"price": 0.1, "amount": 0.001},
            "limits": {"leverage": {"min": 1, "max": 125}, "amount": {"min": 0.001}},
            "info": {"maintMarginPercent": "2.5000"},
        }
    )
    spec = listing.spec
    assert (spec.lot_size, spec.max_leverage, spec.maintenance_margin_pct, spec.perpetual) == (
        0.001,
        125.0,
        2.5,
        True,
    )
