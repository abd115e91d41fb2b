"""manage.py refresh_markets: market rows from the exchanges' own metadata (a local server
with recorded BitMEX instrument and Binance exchangeInfo answers)."""

from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from strategies_app.models import Market
from tests.bots.exchange_server import RecordedExchangeServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def exchanges(settings):
    with RecordedExchangeServer() as server:
        settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "bitmex": server.url, "binance": server.url}
        yield server


def test_bitmex_ethusd_becomes_a_quanto_market_settling_in_xbt(exchanges, capsys):
    before = Market.objects.get(exchange="bitmex", symbol="ETHUSD")
    assert (before.contract_type, before.settle) == ("linear", "USD")  # the hand-typed seed

    call_command("refresh_markets", "bitmex")

    eth = Market.objects.get(exchange="bitmex", symbol="ETHUSD")
    assert (eth.contract_type, eth.settle, eth.multiplier) == ("quanto", "XBT", Decimal("0.000001"))
    assert eth.refreshed_at is not None
    spec = eth.spec()
    assert spec.quanto and spec.multiplier == 1e-6 and spec.pnl(1000, 3000.0, 3150.0) == pytest.approx(0.15)
    xbt = Market.objects.get(exchange="bitmex", symbol="XBTUSD")
    assert (xbt.contract_type, xbt.settle, xbt.tick_size) == ("inverse", "XBT", Decimal("0.1"))
    # listed by the engine for BitMEX but not open there any more
    assert not Market.objects.get(exchange="bitmex", symbol="DOGEUSD").active
    assert not Market.objects.filter(exchange="bitmex", symbol="XBTUSDT").exists()  # not asked for
    # the sim market of the same name is the engine's own, untouched
    assert Market.objects.get(exchange="sim", symbol="ETHUSD").contract_type == "linear"
    out = capsys.readouterr().out
    assert "bitmex: 0 created" in out and "ETHUSD" in out


def test_all_creates_every_listed_market_and_a_second_run_changes_nothing(exchanges, capsys):
    call_command("refresh_markets", "bitmex", "--all")
    assert Market.objects.get(exchange="bitmex", symbol="XBTUSDT").settle == "USDT"
    capsys.readouterr()

    call_command("refresh_markets", "bitmex")

    assert "0 created, 0 updated" in capsys.readouterr().out


def test_binance_markets_come_from_load_markets(exchanges):
    Market.objects.filter(exchange="binance", symbol="ETHUSDT").delete()

    call_command("refresh_markets", "binance")

    btc = Market.objects.get(exchange="binance", symbol="BTCUSDT")
    assert (btc.contract_type, btc.settle, btc.tick_size) == ("linear", "USDT", Decimal("0.01"))
    assert Market.objects.filter(exchange="binance", symbol="ETHUSDT").exists()  # the engine lists it
    assert not Market.objects.filter(exchange="binance", symbol="SOLBTC").exists()


def test_the_api_shows_the_contract_and_its_multiplier(exchanges, viewer_api):
    call_command("refresh_markets", "bitmex")

    markets = viewer_api.get("/api/markets?exchange=bitmex").json()["markets"]

    eth = next(m for m in markets if m["symbol"] == "ETHUSD")
    assert (eth["contract_type"], eth["settle"], eth["multiplier"]) == ("quanto", "XBT", 1e-6)


def test_an_unreachable_exchange_fails_and_changes_nothing(settings):
    settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "bitmex": "http://127.0.0.1:9"}
    before = list(Market.objects.filter(exchange="bitmex").values())

    with pytest.raises(CommandError, match="bitmex"):
        call_command("refresh_markets", "bitmex")

    assert list(Market.objects.filter(exchange="bitmex").values()) == before


def test_sim_has_no_metadata_to_refresh_from():
    with pytest.raises(CommandError, match="no market metadata"):
        call_command("refresh_markets", "sim")


def test_local_has_no_metadata_and_an_unknown_exchange_is_named():
    with pytest.raises(CommandError, match="local publishes no market metadata"):
        call_command("refresh_markets", "local")
    with pytest.raises(CommandError, match="Unknown exchange 'kraken'"):
        call_command("refresh_markets", "kraken")


def test_without_arguments_it_refreshes_every_exchange_with_metadata(exchanges, capsys):
    call_command("refresh_markets")

    out = capsys.readouterr().out
    assert out.startswith("bitmex: ") and "\nbinance: " in out
    assert {path for path, _ in exchanges.requests} >= {"/api/v1/instrument", "/api/v3/exchangeInfo"}
