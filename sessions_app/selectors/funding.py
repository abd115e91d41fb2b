"""Funding rates of one market over a range: the sim exchange's computed, others' downloaded."""

from __future__ import annotations

from bots.funding import FundingRates
from sessions_app.errors import InvalidInput
from strategies_app.market_data import funding_load
from strategies_app.models import Market


def funding_rates(*, exchange: str, market: str, start: int, end: int) -> FundingRates:
    """The rates of [start, end) of an active market (a 400 naming `market` otherwise); none
    for a market that is no perpetual, or whose rates were never downloaded."""
    row = Market.objects.filter(exchange=exchange, symbol=market, active=True).first()
    if row is None:
        raise InvalidInput.from_errors({"market": [f"No active market {market!r} on {exchange}."]})
    spec = row.spec()
    return funding_load(exchange, [market], start, end, specs={market: spec})[market]
