"""Every number a strategy takes is bounded: a schema maximum on each, and no
number beyond 1e12 whatever a schema says. Before, `position_size: 1e300` was accepted; once
it ran, its detail page and trades API answered 500 (decimal.InvalidOperation)."""

import pytest

from bots.strategies.registry import get_strategies
from strategies_app.models import Strategy
from strategies_app.services import strategies_sync
from tests.conftest import _refused

BODY = {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}


@pytest.mark.parametrize("strategy_id", sorted(get_strategies()))
def test_every_number_a_built_in_strategy_takes_has_a_maximum(strategy_id):
    schema = get_strategies()[strategy_id].param_schema
    for name, spec in schema["properties"].items():
        if spec.get("type") in ("number", "integer"):
            assert "maximum" in spec or "exclusiveMaximum" in spec, (strategy_id, name)


@pytest.mark.parametrize(
    "params, field",
    [
        ({"position_size": 1e300}, "position_size"),
        ({"position_size": 10**400}, "position_size"),
        ({"position_size": 2_000_000}, "position_size"),
        ({"threshold": -1e300}, "threshold"),
    ],
)
def test_a_number_past_its_bound_is_a_400_naming_it(operator_api, params, field):
    response = operator_api.post("/api/sessions", {**BODY, "strategy_params": params}, format="json")

    body = _refused(response, 400, f"strategy_params.{field}")
    assert len(body["error"]) < 200


def test_a_sweep_value_past_its_bound_is_refused(operator_api):
    body = {
        **BODY,
        "type": "backtest",
        "strategy": "SmaCross",
        "range_start": 1_704_067_200,
        "range_end": 1_704_153_600,
        "sweep": {"position_size": [1, 1e300]},
    }

    _refused(operator_api.post("/api/sessions", body, format="json"), 400, "sweep")


def test_a_schema_edited_without_its_maximum_still_bounds_numbers_and_sync_restores_it(operator_api, db):
    row = Strategy.objects.get(pk="TestBot")
    schema = row.param_schema
    schema["properties"]["position_size"].pop("maximum")
    schema["properties"]["position_size"]["title"] = "Contracts"  # an admin's edit
    Strategy.objects.filter(pk="TestBot").update(param_schema=schema)

    response = operator_api.post(
        "/api/sessions", {**BODY, "strategy_params": {"position_size": 1e300}}, format="json"
    )
    _refused(response, 400, "strategy_params.position_size")

    strategies_sync()
    spec = Strategy.objects.get(pk="TestBot").param_schema["properties"]["position_size"]
    assert (spec["maximum"], spec["title"]) == (1_000_000, "Contracts")
