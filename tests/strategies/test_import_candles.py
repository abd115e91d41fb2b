"""manage.py import_candles: a CSV into the archive, the market created; a bad file imports nothing."""

import pytest
from django.core.management import CommandError, call_command

from bots import archive
from strategies_app.models import Market

pytestmark = pytest.mark.django_db

DAY = 86_400
CSV = """Date,Open,High,Low,Close,Volume
2024-01-02,187.15,188.44,183.89,185.64,82488700
2024-01-03,184.22,185.88,183.43,184.25,58414500
2024-01-04,182.15,183.09,180.88,181.91,71983600
"""


@pytest.fixture
def data_root(settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    return settings.DATA_ROOT


def test_it_imports_daily_candles_and_creates_a_linear_market(tmp_path, data_root, capsys):
    path = tmp_path / "goog.csv"
    path.write_text(CSV)

    call_command("import_candles", str(path), "--exchange", "local", "--market", "GOOG", "--timeframe", "1d")

    candles = archive.load(str(data_root), "local", "GOOG", "1d")
    assert candles.time.tolist() == [1704153600, 1704153600 + DAY, 1704153600 + 2 * DAY]
    assert candles.close.tolist() == [185.64, 184.25, 181.91]
    market = Market.objects.get(exchange="local", symbol="GOOG")
    assert (market.contract_type, market.settle) == ("linear", "USD")
    assert "Imported 3 1d candles of GOOG" in capsys.readouterr().out


def test_importing_the_same_file_twice_adds_no_candle(tmp_path, data_root):
    path = tmp_path / "goog.csv"
    path.write_text(CSV)
    for _ in range(2):
        call_command("import_candles", str(path), "--market", "GOOG", "--timeframe", "1d")

    assert len(archive.load(str(data_root), "local", "GOOG", "1d")) == 3
    assert Market.objects.filter(exchange="local", symbol="GOOG").count() == 1


def test_an_inverse_market_settles_in_the_given_currency(tmp_path, data_root):
    path = tmp_path / "xbt.csv"
    path.write_text("time,open,high,low,close,volume\n1704067200,42000,42100,41900,42050,10\n")

    call_command(
        "import_candles",
        str(path),
        "--market",
        "XBTUSD",
        "--timeframe",
        "1m",
        "--contract",
        "inverse",
        "--settle",
        "XBT",
    )

    market = Market.objects.get(exchange="local", symbol="XBTUSD")
    assert (market.contract_type, market.settle, market.base) == ("inverse", "XBT", "XBT")


def test_a_malformed_line_rejects_the_whole_file_naming_the_line(tmp_path, data_root):
    path = tmp_path / "bad.csv"
    path.write_text(CSV + "2024-01-05,181.99,oops,180.00,181.18,62303300\n")

    with pytest.raises(CommandError, match="Line 5"):
        call_command("import_candles", str(path), "--market", "GOOG", "--timeframe", "1d")

    assert len(archive.load(str(data_root), "local", "GOOG", "1d")) == 0
    assert not Market.objects.filter(symbol="GOOG").exists()


def test_a_missing_file_is_a_clear_error(data_root):
    with pytest.raises(CommandError, match="No such file"):
        call_command("import_candles", "/nonexistent.csv", "--market", "GOOG", "--timeframe", "1d")


def test_it_refuses_an_exchange_that_is_not_registered(tmp_path, data_root):
    path = tmp_path / "goog.csv"
    path.write_text(CSV)

    with pytest.raises(CommandError, match="invalid choice: 'nasdaq'"):
        call_command(
            "import_candles", str(path), "--exchange", "nasdaq", "--market", "GOOG", "--timeframe", "1d"
        )

    assert not Market.objects.filter(exchange="nasdaq").exists()
