"""manage.py download_candles: history from an exchange (a local server with recorded Binance
answers) into the archive; a second run resumes instead of fetching again."""

import pytest
from django.core.management import CommandError, call_command

from bots import archive
from tests.bots.exchange_server import RecordedExchangeServer

pytestmark = pytest.mark.django_db

FIRST = 1_700_006_400  # the recording's first 1m candle (2023-11-15 00:00 UTC)


@pytest.fixture
def binance(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    with RecordedExchangeServer() as server:
        settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "binance": server.url}
        yield server


def test_it_downloads_into_the_archive_and_resumes(binance, settings, capsys):
    args = [
        "--exchange",
        "binance",
        "--market",
        "BTCUSDT",
        "--timeframe",
        "1m",
        "--start",
        "2023-11-15",
        "--end",
        "2023-11-16",
    ]
    call_command("download_candles", *args)

    candles = archive.load(str(settings.DATA_ROOT), "binance", "BTCUSDT", "1m")
    assert len(candles) == 600 and int(candles.time[0]) == FIRST
    assert "600 new 1m candles" in capsys.readouterr().out

    asked_before = len(binance.requests)
    call_command("download_candles", *args)
    assert "0 new 1m candles" in capsys.readouterr().out
    first_query = binance.requests[asked_before][1]
    assert int(first_query["startTime"]) // 1000 > FIRST  # resumed after what it had


def test_an_unknown_market_is_refused(binance):
    with pytest.raises(CommandError, match="Unknown market DOGEUSDT on binance"):
        call_command(
            "download_candles",
            "--exchange",
            "binance",
            "--market",
            "DOGEUSDT",
            "--start",
            "2023-11-15",
            "--end",
            "2023-11-16",
        )


@pytest.mark.parametrize(
    ("exchange", "why"), [("sim", "computed on demand"), ("local", "imported: manage.py import_candles")]
)
def test_an_exchange_without_downloadable_history_is_refused(binance, exchange, why):
    with pytest.raises(
        CommandError, match=f"{exchange} has no history to download \\(its candles are {why}\\)"
    ):
        call_command(
            "download_candles",
            "--exchange",
            exchange,
            "--market",
            "XBTUSD",
            "--start",
            "2023-11-15",
            "--end",
            "2023-11-16",
        )
    assert binance.requests == []
