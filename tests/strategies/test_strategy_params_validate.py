"""strategies_app.services.strategy_params_validate: the table's schema, the class's own rules."""

import pytest

from bots.strategies.base import ParamsError
from strategies_app.models import Strategy
from strategies_app.services import strategy_params_validate


def validate(strategy_id, params):
    return strategy_params_validate(strategy=Strategy.objects.get(id=strategy_id), params=params)


def test_it_fills_the_defaults(db):
    assert validate("TestBot", None) == {"threshold": 0.5, "position_size": 1}
    assert validate("TestBot", {"position_size": 3}) == {"threshold": 0.5, "position_size": 3}


@pytest.mark.parametrize(
    "strategy_id,params,field",
    [
        ("TestBot", {"threshold": 1.5}, "threshold"),
        ("TestBot", {"threshold": -0.01}, "threshold"),
        ("TestBot", {"position_size": 0}, "position_size"),
        ("TestBot", {"position_size": 1.5}, "position_size"),
        ("PairTradeBot", {"spread_threshold": 0}, "spread_threshold"),
        ("PairTradeBot", {"lookback": 1}, "lookback"),
        ("SmaCross", {"n1": 20, "n2": 20}, "n2"),
        ("MarketScraper", {"archive_interval": 0}, "archive_interval"),
    ],
)
def test_it_enforces_the_bounds_naming_the_field(db, strategy_id, params, field):
    with pytest.raises(ParamsError) as refused:
        validate(strategy_id, params)

    assert field in refused.value.errors


def test_it_follows_a_schema_edited_in_the_admin(db):
    schema = Strategy.objects.get(id="TestBot").param_schema
    schema["properties"]["threshold"]["maximum"] = 0.4
    Strategy.objects.filter(id="TestBot").update(
        param_schema=schema, default_params={"threshold": 0.3, "position_size": 100}
    )

    assert validate("TestBot", None)["threshold"] == 0.3
    with pytest.raises(ParamsError) as refused:
        validate("TestBot", {"threshold": 0.45})
    assert "at most 0.4" in refused.value.errors["threshold"][0]
