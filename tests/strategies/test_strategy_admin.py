"""The admin edits a strategy's defaults and schema, validated: a schema that is not JSON
Schema, or defaults that break it, are refused with the field named."""

import json

import pytest

from strategies_app.models import Strategy

pytestmark = pytest.mark.django_db

URL = "/admin/strategies_app/strategy/TestBot/change/"


def _form(strategy, **changes):
    data = {
        "id": strategy.id,
        "name": strategy.name,
        "description": strategy.description or "",
        "supported_types": json.dumps(strategy.supported_types),
        "supported_markets": json.dumps(strategy.supported_markets),
        "default_params": json.dumps(strategy.default_params),
        "param_schema": json.dumps(strategy.param_schema),
    }
    return {**data, **{k: json.dumps(v) for k, v in changes.items()}}


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_it_saves_new_defaults_within_the_schema(admin_client):
    strategy = Strategy.objects.get(pk="TestBot")
    response = admin_client.post(URL, _form(strategy, default_params={"threshold": 0.3, "position_size": 50}))

    assert response.status_code == 302
    assert Strategy.objects.get(pk="TestBot").default_params == {"threshold": 0.3, "position_size": 50}


def test_it_refuses_defaults_outside_the_schemas_bounds(admin_client):
    strategy = Strategy.objects.get(pk="TestBot")
    response = admin_client.post(URL, _form(strategy, default_params={"threshold": 1.5, "position_size": 50}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "threshold: Must be at most 1 (got 1.5)." in errors["default_params"][0]
    assert Strategy.objects.get(pk="TestBot").default_params["threshold"] == 0.5


def test_it_refuses_a_schema_that_is_not_json_schema(admin_client):
    strategy = Strategy.objects.get(pk="TestBot")
    schema = {"type": "object", "properties": {"threshold": {"type": "decimalish"}}}
    response = admin_client.post(URL, _form(strategy, param_schema=schema))

    assert response.status_code == 200
    assert "Not a valid JSON Schema" in response.context["adminform"].form.errors["param_schema"][0]


def test_it_refuses_an_unknown_session_type(admin_client):
    strategy = Strategy.objects.get(pk="TestBot")
    response = admin_client.post(URL, _form(strategy, supported_types=["test", "live"]))

    assert response.status_code == 200
    assert "supported_types" in response.context["adminform"].form.errors


def test_the_market_list_answers(admin_client):
    response = admin_client.get("/admin/strategies_app/market/?exchange=sim")

    assert response.status_code == 200
    assert b"XBTUSD" in response.content and b"inverse" in response.content
