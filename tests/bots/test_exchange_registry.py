"""The exchange registry: each class carries its facts, and the rest asks the registry."""

from __future__ import annotations

import re

import pytest
from conftest import T0

from bots import archive
from bots.data import data_fingerprint, load_candles
from bots.exchanges import registry
from bots.exchanges.base import Capability, Exchange, ExchangeError
from bots.exchanges.local import LocalExchange
from bots.exchanges.registry import exchange_can, exchange_class, exchange_names, get_exchange
from bots.exchanges.sim import SimExchange
from bots.markets import KNOWN_MARKETS


def test_it_lists_the_exchanges_in_the_products_order():
    assert exchange_names() == ("sim", "bitmex", "binance", "local")


@pytest.mark.parametrize("cls", registry.EXCHANGES, ids=lambda cls: cls.name)
def test_every_exchange_carries_its_facts(cls):
    assert issubclass(cls, Exchange) and cls.name and cls.label
    assert all(symbol in KNOWN_MARKETS for symbol in cls.markets)
    assert len(set(cls.markets)) == len(cls.markets)
    assert cls.url_setting is None or re.fullmatch(r"[A-Z][A-Z0-9_]*_URL", cls.url_setting)
    assert cls.capabilities and cls.capabilities <= set(Capability)
    # What needs a network (history, metadata) comes with a URL to point elsewhere.
    if cls.can(Capability.DOWNLOAD) or cls.can(Capability.MARKET_METADATA):
        assert cls.url_setting is not None


def test_the_names_are_unique():
    names = [cls.name for cls in registry.EXCHANGES]
    assert len(names) == len(set(names))


def test_it_answers_by_capability():
    assert exchange_names(Capability.GENERATED) == ("sim",)
    assert exchange_names(Capability.LIVE_FEED) == ("sim", "bitmex", "binance")
    assert exchange_names(Capability.DOWNLOAD) == ("bitmex", "binance")
    assert exchange_names(Capability.MARKET_METADATA) == ("bitmex", "binance")
    assert exchange_names(Capability.IMPORTED) == ("local",)
    assert exchange_names(Capability.GENERATED, Capability.DOWNLOAD) == ()
    assert exchange_can("sim", Capability.GENERATED) and not exchange_can("local", Capability.LIVE_FEED)
    assert not exchange_can("nowhere", Capability.GENERATED)


def test_an_unknown_name_is_refused_naming_the_registered_ones():
    with pytest.raises(KeyError, match="sim, bitmex, binance, local"):
        exchange_class("nowhere")


def test_local_is_a_real_exchange_of_imported_candles(tmp_path):
    local = get_exchange("local")
    assert isinstance(local, LocalExchange) and local.markets == ()
    with pytest.raises(ExchangeError, match="import_candles"):
        local.fetch_candles("GOOG", "1d", T0, T0 + 86_400)
    # Refused at the call, before a runner would wait on a feed that never comes.
    with pytest.raises(ExchangeError, match="no live feed"):
        local.live(["GOOG"], "1d")

    imported = SimExchange().fetch_candles("GOOG", "1d", T0, T0 + 5 * 86_400)
    archive.write(tmp_path, "local", "GOOG", "1d", imported)
    assert load_candles("local", "GOOG", "1d", T0, T0 + 5 * 86_400, str(tmp_path)).equals(imported)
    with pytest.raises(ValueError, match="archive"):
        load_candles("local", "GOOG", "1d", T0, T0 + 86_400)


def test_a_new_exchange_needs_its_class_and_one_registry_line(monkeypatch, tmp_path):
    """bots.data asks the registry: a generated exchange added there is computed and
    fingerprinted by its generator version, with no name written anywhere else."""

    class Echo(SimExchange):
        name = "echo"
        label = "Echo"
        generator_version = 7

    monkeypatch.setattr(registry, "EXCHANGES", (*registry.EXCHANGES, Echo))

    candles = load_candles("echo", "XBTUSD", "1m", T0, T0 + 3600, str(tmp_path))
    assert candles.equals(SimExchange().fetch_candles("XBTUSD", "1m", T0, T0 + 3600))
    legs = {"XBTUSD": candles}
    echoed = data_fingerprint("echo", "1m", T0, T0 + 3600, legs)
    assert echoed != data_fingerprint("sim", "1m", T0, T0 + 3600, legs)
    Echo.generator_version = 8  # new candles: runs on the old ones are not reused
    assert data_fingerprint("echo", "1m", T0, T0 + 3600, legs) != echoed
