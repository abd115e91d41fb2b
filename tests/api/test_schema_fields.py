"""/api/schema/ describes every body, query parameter and answer field by field, so a client
can be generated from it (no endpoint documented as a generic object)."""

from __future__ import annotations

import json

import pytest

from sessions_app.api import compat_urls, urls
from sessions_app.api.serializers import serializer_for
from sessions_app.representations import EVENT, MARKET, RUN, SESSION, STRATEGY

OPENAPI_JSON = "application/vnd.oai.openapi+json"
SESSION_TYPES = ["test", "backtest", "scraper"]
STATUSES = ["created", "running", "stopped", "completed", "failed"]
TIMEFRAMES = ["1s", "5s", "1m", "5m", "15m", "1h", "4h", "1d"]
EXCHANGES = ["sim", "bitmex", "binance", "local"]


@pytest.fixture
def openapi(viewer_api) -> dict:
    # DRF's ?format= override is off (format is the trades export's): JSON by Accept.
    response = viewer_api.get("/api/schema/", HTTP_ACCEPT=OPENAPI_JSON)
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"].startswith(OPENAPI_JSON)
    return json.loads(response.content)


class Resolver:
    """Follows $ref, and the allOf/oneOf drf-spectacular wraps nullable refs and enums in."""

    def __init__(self, document: dict):
        self.components = document["components"]["schemas"]

    def __call__(self, schema: dict) -> dict:
        if "$ref" in schema:
            return self(self.components[schema["$ref"].rsplit("/", 1)[-1]])
        if len(schema.get("allOf", [])) == 1:
            return {**self(schema["allOf"][0]), **{k: v for k, v in schema.items() if k != "allOf"}}
        return schema

    def enum(self, schema: dict) -> list:
        """The values a field may take (a nullable enum is oneOf [enum, NullEnum])."""
        schema = self(schema)
        values = list(schema.get("enum", []))
        for option in schema.get("oneOf", []):
            values += [v for v in self(option).get("enum", []) if v is not None]
        return values

    def nullable(self, schema: dict) -> bool:
        schema = self(schema)
        return bool(schema.get("nullable")) or any(
            None in self(option).get("enum", []) for option in schema.get("oneOf", [])
        )


def _served_operations() -> set[tuple[str, str]]:
    """(route, method) of every method an API view answers."""
    served = set()
    for pattern in [*urls.urlpatterns, *compat_urls.urlpatterns]:
        view_class = getattr(pattern.callback, "cls", None)
        if view_class is None or pattern.name == "api-schema":
            continue
        served |= {
            (pattern.name, m) for m in ("get", "post", "patch", "put", "delete") if hasattr(view_class, m)
        }
    return served


def _json_schema(content: dict) -> dict:
    return content["application/json"]["schema"]


def test_it_describes_the_body_of_a_session_creation_field_by_field(openapi):
    resolve = Resolver(openapi)
    body = openapi["paths"]["/api/sessions/"]["post"]["requestBody"]

    assert list(body["content"]) == ["application/json"]  # what the services are given
    schema = resolve(_json_schema(body["content"]))
    fields = schema["properties"]
    assert set(fields) == {
        "type",
        "market",
        "exchange",
        "strategy",
        "strategy_params",
        "timeframe",
        "initial_balance",
        "fee_bps",
        "slippage_bps",
        "range_start",
        "range_end",
        "sweep",
        "reuse",
        "leverage",
        "sizing",
        "maintenance_margin_pct",
        "funding",
        "name",
        "notes",
        "notify_url",
    }
    assert set(schema["required"]) == {"type", "market", "strategy"}
    assert resolve.enum(fields["type"]) == SESSION_TYPES
    assert resolve.enum(fields["timeframe"]) == TIMEFRAMES
    assert resolve.enum(fields["exchange"]) == EXCHANGES
    assert resolve(fields["market"])["type"] == "string"
    assert resolve(fields["strategy"])["type"] == "string"
    assert fields["strategy_params"]["type"] == "object"
    assert fields["sweep"]["type"] == "object" and fields["sweep"]["additionalProperties"]["type"] == "array"
    for field in ("range_start", "range_end"):
        assert fields[field]["type"] == "integer" and fields[field]["nullable"] is True
    for field in ("initial_balance", "fee_bps", "slippage_bps", "leverage", "maintenance_margin_pct"):
        assert fields[field]["type"] == "number"
    assert resolve.enum(fields["sizing"]) == ["units", "equity", "notional"]
    assert fields["funding"]["type"] == "boolean" and fields["funding"]["nullable"] is True
    assert fields["name"]["type"] == "string" and fields["name"]["maxLength"] == 255


def test_it_describes_the_session_of_a_creations_answer_field_by_field(openapi, operator_api):
    resolve = Resolver(openapi)
    answer = resolve(_json_schema(openapi["paths"]["/api/sessions/"]["post"]["responses"]["201"]["content"]))
    assert resolve(answer["properties"]["success"])["type"] == "boolean"
    session = resolve(answer["properties"]["session"])
    fields = session["properties"]

    created = operator_api.post(
        "/api/sessions", {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}, format="json"
    )
    assert created.status_code == 201, created.content
    # Every key the API answers is described, and nothing it does not answer.
    assert set(fields) == set(created.json()["session"])
    assert set(session["required"]) == set(fields)

    assert fields["id"]["type"] == "string"
    assert resolve.enum(fields["status"]) == STATUSES
    assert resolve.enum(fields["type"]) == SESSION_TYPES
    assert resolve.enum(fields["timeframe"]) == TIMEFRAMES
    for field in (
        "created_at",
        "started_at",
        "stopped_at",
        "heartbeat_at",
        "range_start",
        "range_end",
        "pid",
    ):
        assert fields[field]["type"] == "integer" and fields[field]["nullable"] is True, field
    for field in ("total_pnl", "win_rate", "max_drawdown", "fee_bps", "leverage"):
        assert fields[field]["type"] == "number" and not fields[field].get("nullable"), field
    for field in ("sharpe", "maintenance_margin_pct"):
        assert fields[field]["type"] == "number" and fields[field]["nullable"] is True, field
    assert resolve.enum(fields["sizing"]) == ["units", "equity", "notional"]
    for field in ("worker", "error", "created_by", "notes", "notify_url", "cloned_from", "logs_file"):
        assert fields[field]["type"] == "string" and fields[field]["nullable"] is True, field
    assert fields["waiting_for_worker"]["type"] == "boolean"
    assert fields["trade_count"]["type"] == "integer"
    progress = resolve(fields["progress"])
    assert {"done", "total", "percent", "trade_count", "total_pnl", "win_rate", "currency"} <= set(
        progress["properties"]
    )
    assert progress["properties"]["percent"]["nullable"] is True


def test_every_operation_answers_with_described_fields(openapi):
    resolve = Resolver(openapi)
    operations = [
        (path, method, op) for path, item in openapi["paths"].items() for method, op in item.items()
    ]
    # Every method of every API view is an operation of the schema: each view declares its own.
    assert len(operations) == len(_served_operations())

    for path, method, operation in operations:
        label = f"{method.upper()} {path}"
        successes = [code for code in operation["responses"] if code.startswith("2")]
        assert successes, label
        for code, response in operation["responses"].items():
            answer = resolve(_json_schema(response["content"]))
            assert answer["type"] == "object" and answer["properties"], (label, code)
            assert "success" in answer["required"], (label, code)
            if not code.startswith("2"):
                assert set(answer["properties"]) >= {"success", "error", "errors"}, (label, code)
        # Any call may be anonymous; writes may come from a viewer.
        assert "401" in operation["responses"], label
        if method != "get":
            assert "403" in operation["responses"], label


def test_refusals_are_documented_where_they_happen(openapi):
    paths = openapi["paths"]

    assert {"400", "401", "403"} <= set(paths["/api/sessions/"]["post"]["responses"])
    assert {"403", "404", "409"} <= set(paths["/api/sessions/{session_id}/start/"]["post"]["responses"])
    assert {"404", "409"} <= set(paths["/api/sessions/{session_id}/"]["delete"]["responses"])
    assert {"400", "404", "409"} <= set(paths["/api/sessions/{session_id}/"]["patch"]["responses"])
    assert "400" in paths["/api/sessions/"]["get"]["responses"]
    assert "404" in paths["/api/strategies/{strategy_id}/"]["get"]["responses"]
    # A read by a logged-in user is never forbidden.
    assert "403" not in paths["/api/sessions/"]["get"]["responses"]


def test_query_parameters_are_typed(openapi):
    resolve = Resolver(openapi)
    parameters = {p["name"]: p for p in openapi["paths"]["/api/sessions/"]["get"]["parameters"]}

    assert set(parameters) >= {
        "status",
        "type",
        "market",
        "strategy",
        "q",
        "created_after",
        "created_before",
        "sort",
        "limit",
        "offset",
    }
    status = parameters["status"]
    assert status["schema"]["type"] == "array" and status["explode"] is False  # status=a,b
    assert resolve.enum(status["schema"]["items"]) == STATUSES
    assert resolve.enum(parameters["type"]["schema"]["items"]) == SESSION_TYPES
    assert "total_pnl:desc" in parameters["sort"]["schema"]["enum"]
    assert parameters["limit"]["schema"] == {"type": "integer", "minimum": 0}

    runs = {p["name"]: p for p in openapi["paths"]["/api/sessions/{session_id}/runs/"]["get"]["parameters"]}
    assert set(runs) >= {"status", "sort", "limit", "cursor"}
    logs = {p["name"]: p for p in openapi["paths"]["/api/sessions/{session_id}/logs/"]["get"]["parameters"]}
    assert logs["tail"]["schema"]["type"] == "integer" and logs["offset"]["schema"]["type"] == "integer"


def test_the_trades_export_is_documented_as_csv(openapi):
    operation = openapi["paths"]["/api/sessions/{session_id}/trades/"]["get"]

    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert operation["responses"]["200"]["content"]["text/csv"]["schema"]["type"] == "string"
    formats = {p["name"]: p for p in operation["parameters"]}["format"]
    assert sorted(formats["schema"]["enum"]) == ["csv", "json"]


def test_operation_ids_are_unique(openapi):
    ids = [op["operationId"] for item in openapi["paths"].values() for op in item.values()]

    assert len(ids) == len(set(ids))


def test_the_old_endpoints_are_marked_deprecated(openapi):
    for path in ("/session/test/", "/session/backtest/", "/test/start/", "/market/start/"):
        for operation in openapi["paths"][path].values():
            assert operation["deprecated"] is True, path


def test_the_serializers_shape_what_the_api_answers(operator_api, make_session):
    """Each describing serializer, given the answer's dict, gives the same dict back: the
    documented fields are the answered ones, with the same values."""
    session = make_session(type="backtest", start=True)
    detail = operator_api.get(f"/api/sessions/{session.pk}").json()["session"]
    run = operator_api.get(f"/api/sessions/{session.pk}/runs").json()["runs"][0]
    event = operator_api.get(f"/api/sessions/{session.pk}/events").json()["events"][0]
    strategy = operator_api.get("/api/strategies").json()["strategies"][0]
    market = operator_api.get("/api/markets").json()["markets"][0]

    for serializer, answer in (
        (serializer_for(SESSION), detail),
        (serializer_for(RUN), run),
        (serializer_for(EVENT), event),
        (serializer_for(STRATEGY), strategy),
        (serializer_for(MARKET), market),
    ):
        assert serializer(answer).data == answer, serializer.__name__


def test_metrics_the_engine_leaves_undefined_are_nullable_in_the_schema(openapi):
    """sharpe, sortino and calmar under two days, profit_factor without a losing trade: the
    answers hold null there, and a schema-driven client must accept it."""
    resolve = Resolver(openapi)
    answer = resolve(
        _json_schema(
            openapi["paths"]["/api/sessions/{session_id}/metrics/"]["get"]["responses"]["200"]["content"]
        )
    )
    metrics = resolve(answer["properties"]["metrics"])["properties"]
    run = resolve(openapi["components"]["schemas"]["Run"])
    run_metrics = resolve(run["properties"]["metrics"])["properties"]

    for described in (metrics, run_metrics):
        for field in ("sharpe", "sortino", "calmar", "profit_factor"):
            assert described[field]["type"] == "number" and described[field]["nullable"] is True, field
        for field in ("funding_paid", "liquidations"):
            assert not described[field].get("nullable"), field
    # The run's and the session's sharpe column is null too while the metric is undefined.
    assert run["properties"]["sharpe"]["nullable"] is True
