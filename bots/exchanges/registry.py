"""The one list of exchanges: everything that needs an exchange's facts asks here.

To add an exchange, write its module under bots/exchanges/ (an `Exchange` subclass carrying
its name, label, markets, URL setting and capabilities) and add its class to EXCHANGES.
"""

from __future__ import annotations

from typing import Any

from bots.exchanges.base import Capability, Exchange
from bots.exchanges.binance import BinanceExchange
from bots.exchanges.bitmex import BitmexExchange
from bots.exchanges.local import LocalExchange
from bots.exchanges.sim import SimExchange

# In the order the product lists them (choices, seeded market rows): sim, the default, first.
EXCHANGES: tuple[type[Exchange], ...] = (SimExchange, BitmexExchange, BinanceExchange, LocalExchange)


def exchange_classes() -> dict[str, type[Exchange]]:
    return {cls.name: cls for cls in EXCHANGES}


def exchange_names(*capabilities: Capability) -> tuple[str, ...]:
    """The registered names, in order; with `capabilities`, those that have every one."""
    return tuple(cls.name for cls in EXCHANGES if all(cls.can(c) for c in capabilities))


def exchange_class(name: str) -> type[Exchange]:
    """The class registered under `name`; KeyError naming the registered ones otherwise."""
    classes = exchange_classes()
    if name not in classes:
        raise KeyError(f"Unknown exchange {name!r}; expected one of {', '.join(classes)}.")
    return classes[name]


def exchange_can(name: str, capability: Capability) -> bool:
    """Whether the exchange registered under `name` has `capability`; False for a name that is
    not registered (its candles, if any, are plain archive files)."""
    cls = exchange_classes().get(name)
    return cls is not None and cls.can(capability)


def get_exchange(name: str, **kwargs: Any) -> Exchange:
    """An exchange instance by name (see EXCHANGES); KeyError otherwise."""
    return exchange_class(name)(**kwargs)
