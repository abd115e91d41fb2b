"""GET /api/funding: a market's funding rates over [from, to), sim's computed and others' from
the archive; a bad exchange, market or range is a 400 naming the field."""

import numpy as np
import pytest

from bots import archive
from bots.funding import sim_rates

T0 = 1_700_006_400  # 2023-11-15 00:00 UTC
HOUR, DAY = 3600, 86_400


def get(api, **query):
    return api.get("/api/funding", query)


def test_it_answers_the_sim_rates_of_the_range(viewer_api):
    response = get(viewer_api, exchange="sim", market="XBTUSD", **{"from": T0, "to": T0 + 2 * DAY})

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True and set(body) == {"success", "rates"}
    expected = sim_rates("XBTUSD", T0, T0 + 2 * DAY)
    assert [t for t, _ in body["rates"]] == [T0 + k * 8 * HOUR for k in range(6)]
    assert [r for _, r in body["rates"]] == expected.rates.tolist()
    assert any(r != 0 for _, r in body["rates"])


def test_it_answers_the_downloaded_rates_of_bitmex(viewer_api, settings, tmp_path):
    settings.DATA_ROOT = tmp_path
    times = np.array([T0 + 4 * HOUR, T0 + 12 * HOUR, T0 + 20 * HOUR, T0 + DAY + 4 * HOUR])
    archive.write_funding(tmp_path, "bitmex", "XBTUSD", times, np.array([0.0001, -0.00005, 0.0002, 0.0003]))

    body = get(
        viewer_api, exchange="bitmex", market="XBTUSD", **{"from": T0 + 5 * HOUR, "to": T0 + DAY + 4 * HOUR}
    ).json()

    assert body["rates"] == [[T0 + 12 * HOUR, -0.00005], [T0 + 20 * HOUR, 0.0002]]


def test_a_market_never_downloaded_has_no_rates(viewer_api, settings, tmp_path):
    settings.DATA_ROOT = tmp_path

    body = get(viewer_api, exchange="binance", market="BTCUSDT", **{"from": T0, "to": T0 + DAY}).json()

    assert body == {"success": True, "rates": []}


def test_a_market_that_is_no_perpetual_has_no_rates(viewer_api):
    from strategies_app.models import Market

    Market.objects.filter(exchange="sim", symbol="ETHUSD").update(perpetual=False)

    body = get(viewer_api, exchange="sim", market="ETHUSD", **{"from": T0, "to": T0 + DAY}).json()

    assert body["rates"] == []


def test_without_a_range_it_answers_the_last_thirty_days(viewer_api):
    rates = get(viewer_api, exchange="sim", market="ETHUSD").json()["rates"]

    assert len(rates) in (89, 90, 91)
    assert all(b[0] - a[0] == 8 * HOUR for a, b in zip(rates, rates[1:], strict=False))


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"market": "XBTUSD"}, "exchange"),
        ({"exchange": "sim"}, "market"),
        ({"exchange": "kraken", "market": "XBTUSD"}, "exchange"),
        ({"exchange": "sim", "market": "NOPE"}, "market"),
        ({"exchange": "sim", "market": "../etc"}, "market"),
        ({"exchange": "sim", "market": "XBTUSD", "from": "yesterday"}, "from"),
        ({"exchange": "sim", "market": "XBTUSD", "to": "-5"}, "to"),
        ({"exchange": "sim", "market": "XBTUSD", "from": T0, "to": T0}, "to"),
        ({"exchange": "sim", "market": "XBTUSD", "from": T0, "to": T0 + 3661 * DAY}, "to"),
    ],
)
def test_a_bad_parameter_is_a_400_naming_it(viewer_api, query, field):
    response = viewer_api.get("/api/funding", query)

    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and list(body["errors"]) == [field]


def test_anonymous_requests_are_refused(client, db):
    assert client.get("/api/funding", {"exchange": "sim", "market": "XBTUSD"}).status_code == 401


def test_the_schema_declares_it(viewer_api):
    text = viewer_api.get("/api/schema/").content.decode()

    assert "/api/funding/" in text and "[[Unix seconds, rate], ...]" in text
