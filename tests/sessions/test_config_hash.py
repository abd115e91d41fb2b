"""A run's config_hash is the engine's: the RunConfig the worker builds has the same identity."""

import pytest

from bots.runner import RunConfig
from sessions_app import services

pytestmark = pytest.mark.django_db


def test_a_runs_hash_is_the_hash_of_the_engine_config_it_runs(operator):
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "fee_bps": "5",
            "slippage_bps": "1.25",
            "range_start": 1_767_225_600,
            "range_end": 1_767_312_000,
            "strategy_params": {"n1": 7, "n2": 30},
        },
    )
    run = session.runs.get()

    config = RunConfig.for_market(
        "SmaCross",
        run.params,
        "ETHUSD",
        exchange="sim",
        timeframe="1m",
        range_start=1_767_225_600,
        range_end=1_767_312_000,
        initial_balance=10_000.0,
        fee_bps=5.0,
        slippage_bps=1.25,
    )
    assert run.config_hash == config.config_hash()
    other = RunConfig.for_market(
        "SmaCross",
        {**run.params, "n1": 8},
        "ETHUSD",
        exchange="sim",
        timeframe="1m",
        range_start=1_767_225_600,
        range_end=1_767_312_000,
        initial_balance=10_000.0,
        fee_bps=5.0,
        slippage_bps=1.25,
    )
    assert run.config_hash != other.config_hash()
