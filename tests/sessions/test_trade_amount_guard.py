"""Trades whose amounts the trades table cannot keep are refused before any is written."""

import pytest

from bots.simulator import Trade, TradeLog
from sessions_app.services.trades import TRADE_AMOUNT_LIMIT, TradeValueError, trade_amounts_refuse


def _log(size: float) -> TradeLog:
    log = TradeLog(["SOLUSD"], ["USD"])
    log.append(Trade("SOLUSD", "long", 60, 100.0, size, 120, 101.0, size, size, 0.0, "USD", size))
    return log


def test_an_oversized_trade_is_refused_with_the_field_and_its_value():
    with pytest.raises(TradeValueError, match="entry_size is 1e\\+300, which the trades table cannot store"):
        trade_amounts_refuse(_log(1e300).first_out_of_bounds(TRADE_AMOUNT_LIMIT))


def test_a_trade_within_the_limit_passes():
    assert _log(1e6).first_out_of_bounds(TRADE_AMOUNT_LIMIT) is None
    trade_amounts_refuse(None)
