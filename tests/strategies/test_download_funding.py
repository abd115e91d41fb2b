"""manage.py download_candles --funding: a perpetual's funding rates (a local server with
recorded BitMEX and Binance answers) into the archive beside its candles, once."""

import pytest
from django.core.management import call_command

from bots import archive
from strategies_app.market_data import funding_load
from tests.bots.exchange_server import RecordedExchangeServer

pytestmark = pytest.mark.django_db

T0 = 1_700_006_400  # 2023-11-15 00:00 UTC, the recordings' first day
HOUR = 3600


@pytest.fixture
def server(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    with RecordedExchangeServer() as running:
        settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "bitmex": running.url, "binance": running.url}
        yield running


def download(exchange, market, *extra):
    call_command(
        "download_candles",
        *("--exchange", exchange, "--market", market, "--start", "2023-11-15", "--end", "2023-11-16"),
        *extra,
    )


def test_it_downloads_the_funding_rates_beside_the_candles_once(server, settings, capsys):
    download("bitmex", "XBTUSD", "--funding")

    out = capsys.readouterr().out
    assert "600 new 1m candles" in out and "3 new funding rates of XBTUSD on bitmex" in out
    path = archive.funding_path(settings.DATA_ROOT, "bitmex", "XBTUSD")
    assert path.parent == archive.market_dir(settings.DATA_ROOT, "bitmex", "XBTUSD")
    rates = funding_load("bitmex", ["XBTUSD"], T0, T0 + 86400)["XBTUSD"]
    assert rates.times.tolist() == [T0 + 4 * HOUR, T0 + 12 * HOUR, T0 + 20 * HOUR]

    download("bitmex", "XBTUSD", "--funding")
    assert "0 new funding rates" in capsys.readouterr().out
    assert len(funding_load("bitmex", ["XBTUSD"], T0, T0 + 86400)["XBTUSD"]) == 3


def test_binance_rates_are_downloaded_from_its_futures_api(server, capsys):
    download("binance", "BTCUSDT", "--funding")

    assert "3 new funding rates of BTCUSDT on binance" in capsys.readouterr().out
    assert any(path == "/fapi/v1/fundingRate" for path, _ in server.requests)
    rates = funding_load("binance", ["BTCUSDT"], T0, T0 + 86400)["BTCUSDT"]
    assert rates.times.tolist() == [T0, T0 + 8 * HOUR, T0 + 16 * HOUR]


def test_without_the_flag_no_funding_is_asked(server):
    download("bitmex", "XBTUSD")

    assert all(path != "/api/v1/funding" for path, _ in server.requests)
    assert len(funding_load("bitmex", ["XBTUSD"], T0, T0 + 86400)["XBTUSD"]) == 0


def test_sim_funding_is_computed_not_downloaded(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    rates = funding_load("sim", ["XBTUSD", "ETHUSD"], T0, T0 + 86400)
    assert [len(r) for r in rates.values()] == [3, 3]
    assert not (tmp_path / "data").exists()  # nothing written
