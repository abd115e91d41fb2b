"""GET /api/strategies and /api/strategies/<id>: the registry's strategies with real JSON Schema."""


def walk(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from walk(value)


def test_it_lists_the_built_in_strategies(viewer_api):
    response = viewer_api.get("/api/strategies")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [s["id"] for s in body["strategies"]] == ["MarketScraper", "PairTradeBot", "SmaCross", "TestBot"]
    assert body["total"] == 4


def test_it_filters_strategies_by_session_type(viewer_api):
    scrapers = viewer_api.get("/api/strategies?type=scraper").json()
    backtests = viewer_api.get("/api/strategies?type=backtest").json()

    assert [s["id"] for s in scrapers["strategies"]] == ["MarketScraper"]
    assert [s["id"] for s in backtests["strategies"]] == ["PairTradeBot", "SmaCross", "TestBot"]


def test_it_shows_a_strategy_with_its_param_schema(viewer_api):
    response = viewer_api.get("/api/strategies/TestBot")

    assert response.status_code == 200
    strategy = response.json()["strategy"]
    assert strategy["name"] == "Test Bot"
    assert strategy["supported_types"] == ["test", "backtest"]
    assert strategy["supported_markets"] == ["XBTUSD", "ETHUSD", "SOLUSD"]
    assert strategy["default_params"] == {"threshold": 0.5, "position_size": 1}
    threshold = strategy["param_schema"]["properties"]["threshold"]
    assert (threshold["type"], threshold["minimum"], threshold["maximum"]) == ("number", 0, 1)
    assert strategy["param_schema"]["properties"]["position_size"]["minimum"] == 1
    assert isinstance(strategy["created_at"], int)


def test_no_schema_uses_min_and_max_instead_of_minimum_and_maximum(viewer_api):
    for strategy in viewer_api.get("/api/strategies").json()["strategies"]:
        for node in walk(strategy["param_schema"].get("properties", {})):
            if isinstance(node, dict) and "type" in node:
                assert "min" not in node and "max" not in node, (strategy["id"], node)


def test_the_scraper_interval_has_a_minimum(viewer_api):
    schema = viewer_api.get("/api/strategies/MarketScraper").json()["strategy"]["param_schema"]

    assert schema["properties"]["archive_interval"]["minimum"] == 1


def test_it_answers_404_for_an_unknown_strategy(viewer_api, assert_refused):
    assert_refused(viewer_api.get("/api/strategies/MoonBot"), 404)
