"""services.session_create: validation, runs keyed by config hash, the created event, atomicity."""

import re
import time
from decimal import Decimal

import pytest

from sessions_app.errors import InvalidInput
from sessions_app.models import Run, Session, SessionEvent
from sessions_app.services import lifecycle


def past_range(days=7):
    end = int(time.time()) - 86_400
    return {"range_start": end - days * 86_400, "range_end": end}


def test_it_makes_one_run_with_a_12_hex_config_hash(make_session):
    session = make_session(strategy_params={"threshold": 0.3, "position_size": 50})

    [run] = session.runs.all()
    assert re.fullmatch(r"[0-9a-f]{12}", run.config_hash)
    assert run.params == {"threshold": 0.3, "position_size": 50}
    assert run.status == "created"


def test_the_same_config_gives_the_same_hash_and_any_change_another(make_session):
    base = {"type": "backtest", **past_range(), "strategy_params": {"threshold": 0.3, "position_size": 50}}
    first = make_session(**base).runs.get().config_hash
    same = make_session(**base, name="other name", notes="notes do not count").runs.get().config_hash
    others = {
        make_session(**{**base, "strategy_params": {"threshold": 0.31, "position_size": 50}})
        .runs.get()
        .config_hash,
        make_session(**{**base, "market": "ETHUSD"}).runs.get().config_hash,
        make_session(**{**base, "fee_bps": 5}).runs.get().config_hash,
        make_session(**{**base, "timeframe": "5m"}).runs.get().config_hash,
        make_session(**{**base, "range_end": base["range_end"] - 60}).runs.get().config_hash,
    }

    assert same == first
    assert first not in others and len(others) == 5


def test_decimal_spelling_does_not_change_the_hash(make_session):
    assert (
        make_session(fee_bps="7.50").runs.get().config_hash
        == make_session(fee_bps=7.5).runs.get().config_hash
        == make_session().runs.get().config_hash
    )


def test_a_sweep_makes_the_product_of_its_lists(make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.3, 0.5], "position_size": [10, 20]})

    params = sorted((r.params["threshold"], r.params["position_size"]) for r in session.runs.all())
    assert params == [(0.3, 10), (0.3, 20), (0.5, 10), (0.5, 20)]
    assert session.runs.values("config_hash").distinct().count() == 4


def test_repeated_sweep_values_make_one_run(make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.3, 0.3, 0.4]})

    assert sorted(r.params["threshold"] for r in session.runs.all()) == [0.3, 0.4]


def test_it_records_the_created_event(make_session):
    session = make_session(name="Evented")

    assert list(session.events.values_list("event_type", "event_data")) == [("created", {"name": "Evented"})]


def test_it_numbers_generated_names_per_market_and_type(make_session):
    names = [
        make_session().name,
        make_session().name,
        make_session(market="ETHUSD").name,
        make_session(type="backtest").name,
        make_session(type="scraper", market="BTCUSDT", strategy="MarketScraper").name,
    ]

    assert names == ["BTC Test #1", "BTC Test #2", "ETH Test #1", "BTC Backtest #1", "BTC Scraper #1"]


def test_it_defaults_the_balance_to_the_settle_currency(make_session):
    assert make_session(market="XBTUSD").initial_balance == Decimal("1")
    assert make_session(market="ETHUSD").initial_balance == Decimal("10000")


def test_it_defaults_the_exchange_from_settings(make_session, settings):
    settings.DEFAULT_EXCHANGE = "bitmex"

    assert make_session().exchange == "bitmex"


def test_it_refuses_a_market_the_exchange_does_not_list(make_session):
    with pytest.raises(InvalidInput) as refused:
        make_session(exchange="binance", market="XBTUSD")

    assert "market" in refused.value.errors
    assert "binance" in refused.value.errors["market"][0]


def test_it_writes_nothing_when_the_runs_cannot_be_made(make_session, monkeypatch, operator):
    """A failure after the session row is saved rolls the whole create back."""

    def explode(session):
        raise RuntimeError("disk full")

    monkeypatch.setattr(lifecycle, "_runs_create", explode)

    with pytest.raises(RuntimeError):
        make_session(user=operator)

    assert (Session.objects.count(), Run.objects.count(), SessionEvent.objects.count()) == (0, 0, 0)


def test_it_keeps_anonymous_creators_out(make_session):
    from django.contrib.auth.models import AnonymousUser

    assert make_session(user=AnonymousUser()).created_by is None
