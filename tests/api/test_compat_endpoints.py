"""The old system's endpoints: answers with a deprecation notice."""

import pytest

from sessions_app.models import Session

SUCCESSOR = '</api/sessions>; rel="successor-version"'


def _deprecated(response, status=200):
    assert response.status_code == status, response.content[:300]
    assert response["Deprecation"] == "true"
    assert response["Link"] == SUCCESSOR
    body = response.json()
    if status < 400:
        assert body["success"] is True and body["deprecated"] == "Use /api/sessions"
    return body


@pytest.mark.parametrize("path", ["/session/test", "/session/backtest", "/session/test/"])
def test_an_empty_installation_answers_null(viewer_api, path):
    assert _deprecated(viewer_api.get(path))["session"] is None


def test_it_answers_the_newest_session_of_the_type(make_session, viewer_api):
    make_session(name="older test")
    newest = make_session(name="newer test")
    backtest = make_session(type="backtest", name="a backtest")

    test = _deprecated(viewer_api.get("/session/test"))["session"]
    assert test["id"] == newest.pk and test["type"] == "test" and test["name"] == "newer test"
    assert test["status"] == "created" and "progress" in test
    assert _deprecated(viewer_api.get("/session/backtest"))["session"]["id"] == backtest.pk


def test_anonymous_requests_are_refused_like_the_api(anon_api, assert_refused):
    for path in ("/session/test", "/session/backtest"):
        response = anon_api.get(path)
        assert_refused(response, 401)
        assert response["Deprecation"] == "true"
    assert_refused(anon_api.post("/test/start"), 401)


def test_test_start_creates_and_starts_xbtusd_testbot_by_default(operator_api, session_limits):
    body = _deprecated(operator_api.post("/test/start"))

    session = Session.objects.get(pk=body["session"]["id"])
    assert (session.type, session.market, session.strategy) == ("test", "XBTUSD", "TestBot")
    assert session.status == "running" and body["session"]["status"] == "running"
    assert session.created_by.username == operator_api.user.username
    assert list(session.events.values_list("event_type", flat=True)) == ["created", "started"]


def test_test_start_takes_market_strategy_params_and_name(operator_api, session_limits):
    body = _deprecated(
        operator_api.post(
            "/test/start/",
            {
                "market": "ETHUSD",
                "strategy": "SmaCross",
                "strategy_params": {"n1": 5, "n2": 20},
                "name": "old dashboard",
            },
            format="json",
        )
    )
    session = body["session"]
    assert (session["market"], session["strategy"], session["name"]) == (
        "ETHUSD",
        "SmaCross",
        "old dashboard",
    )
    assert session["strategy_params"]["n1"] == 5 and session["strategy_params"]["n2"] == 20


def test_market_start_creates_and_starts_a_scraper(operator_api, session_limits):
    body = _deprecated(operator_api.post("/market/start", {"market": "SOLUSD"}, format="json"))
    session = Session.objects.get(pk=body["session"]["id"])
    assert (session.type, session.strategy, session.market, session.status) == (
        "scraper",
        "MarketScraper",
        "SOLUSD",
        "running",
    )


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/test/start", {"type": "backtest"}, "type"),
        ("/test/start", {"market": "NOPE"}, "market"),
        ("/test/start", {"strategy": "Nope"}, "strategy"),
        ("/test/start", {"strategy_params": {"threshold": 7}}, "strategy_params.threshold"),
        ("/test/start", {"strategy": "MarketScraper"}, "type"),
        ("/market/start", {}, "market"),
        ("/market/start", {"market": "NOPE"}, "market"),
        ("/market/start", {"market": "XBTUSD", "strategy": "TestBot"}, "strategy"),
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_writes_nothing(
    operator_api, assert_refused, row_counts, session_limits, path, body, field
):
    before = row_counts()
    response = operator_api.post(path, body, format="json")
    assert_refused(response, 400, field)
    assert response["Deprecation"] == "true"
    assert row_counts() == before


def test_a_body_that_is_not_an_object_is_a_400(operator_api, assert_refused, row_counts):
    before = row_counts()
    assert_refused(operator_api.post("/test/start", [1, 2], format="json"), 400, "body")
    assert row_counts() == before


def test_a_start_beyond_the_limit_is_a_409_and_leaves_no_session(operator_api, assert_refused, settings):
    settings.SESSION_LIMITS = {"test": 1, "backtest": 1, "scraper": 1}
    _deprecated(operator_api.post("/test/start"))
    _deprecated(operator_api.post("/market/start", {"market": "XBTUSD"}, format="json"))
    count = Session.objects.count()

    body = assert_refused(operator_api.post("/test/start"), 409)
    assert "limit" in body["error"]
    assert_refused(operator_api.post("/market/start", {"market": "ETHUSD"}, format="json"), 409)
    assert Session.objects.count() == count


def test_viewers_cannot_start_and_wrong_methods_are_405(viewer_api, operator_api, assert_refused, row_counts):
    before = row_counts()
    assert_refused(viewer_api.post("/test/start"), 403)
    assert_refused(viewer_api.post("/market/start", {"market": "XBTUSD"}, format="json"), 403)
    assert_refused(operator_api.get("/test/start"), 405)
    assert_refused(operator_api.post("/session/test"), 405)
    assert row_counts() == before
