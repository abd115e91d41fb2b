"""session_create and the exchange registry: names and capabilities come from the classes."""

import pytest

from sessions_app.errors import InvalidInput
from sessions_app.models import Session
from strategies_app.services import market_create


@pytest.fixture
def goog(db):
    return market_create(exchange="local", symbol="GOOG")


@pytest.mark.parametrize("session_type", ["test", "scraper"])
def test_it_refuses_a_live_session_on_an_exchange_without_a_live_feed(make_session, goog, session_type):
    strategy = "MarketScraper" if session_type == "scraper" else "SmaCross"

    with pytest.raises(InvalidInput) as refused:
        make_session(type=session_type, exchange="local", market="GOOG", strategy=strategy)

    assert refused.value.errors["exchange"] == [
        "Imported data (local) has no live feed: only backtests run on it."
    ]
    assert not Session.objects.exists()


def test_it_takes_a_backtest_of_imported_data(make_session, goog):
    session = make_session(type="backtest", exchange="local", market="GOOG", strategy="SmaCross")

    assert (session.exchange, session.market) == ("local", "GOOG")


def test_it_names_the_registered_exchanges_when_refusing_another(make_session):
    with pytest.raises(InvalidInput) as refused:
        make_session(exchange="kraken")

    assert refused.value.errors["exchange"] == ["Must be one of sim, bitmex, binance, local (got 'kraken')."]
