"""GET /api/markets: the seeded markets with their contract details."""


def test_it_lists_the_seeded_markets(viewer_api):
    response = viewer_api.get("/api/markets")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    sim = [m["symbol"] for m in body["markets"] if m["exchange"] == "sim"]
    assert sim == ["BTCUSDT", "DOGEUSD", "ETHUSD", "SOLUSD", "XBTUSD", "XRPUSD"]
    assert body["total"] == len(body["markets"]) == 13


def test_xbtusd_is_inverse_and_settles_in_xbt(viewer_api):
    markets = viewer_api.get("/api/markets?exchange=sim").json()["markets"]

    xbt = next(m for m in markets if m["symbol"] == "XBTUSD")
    eth = next(m for m in markets if m["symbol"] == "ETHUSD")
    assert (xbt["base"], xbt["quote"], xbt["settle"], xbt["contract_type"], xbt["tick_size"]) == (
        "XBT",
        "USD",
        "XBT",
        "inverse",
        0.5,
    )
    assert (eth["settle"], eth["contract_type"]) == ("USD", "linear")
    assert {m["exchange"] for m in markets} == {"sim"}


def test_it_filters_by_exchange(viewer_api):
    markets = viewer_api.get("/api/markets?exchange=binance").json()["markets"]

    assert [m["symbol"] for m in markets] == ["BTCUSDT", "ETHUSDT"]


def test_it_hides_inactive_markets(viewer_api):
    from strategies_app.models import Market

    Market.objects.filter(exchange="sim", symbol="DOGEUSD").update(active=False)

    symbols = [m["symbol"] for m in viewer_api.get("/api/markets?exchange=sim").json()["markets"]]

    assert "DOGEUSD" not in symbols and "XBTUSD" in symbols
