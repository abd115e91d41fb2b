"""`reuse` in a session's config: true by default, a boolean or a 400 naming it, kept by clone."""

import pytest

from tests.conftest import backtest_range

pytestmark = pytest.mark.django_db

BODY = {"type": "backtest", "market": "XBTUSD", "strategy": "TestBot", **backtest_range()}


def test_reuse_is_on_by_default_and_can_be_turned_off(operator_api):
    on = operator_api.post("/api/sessions", BODY, format="json").json()["session"]
    off = operator_api.post("/api/sessions", {**BODY, "reuse": False}, format="json").json()["session"]
    assert on["reuse"] is True and off["reuse"] is False


@pytest.mark.parametrize("value", ["yes", 1, 0, [], {}, "false"])
def test_a_reuse_that_is_not_a_boolean_is_refused_and_writes_nothing(
    operator_api, assert_refused, row_counts, value
):
    before = row_counts()
    response = operator_api.post("/api/sessions", {**BODY, "reuse": value}, format="json")
    assert_refused(response, 400, "reuse")
    assert row_counts() == before


def test_a_clone_keeps_the_sources_reuse_unless_told(operator_api, assert_refused, row_counts):
    source = operator_api.post("/api/sessions", {**BODY, "reuse": False}, format="json").json()["session"]
    kept = operator_api.post(f"/api/sessions/{source['id']}/clone", {}, format="json").json()["session"]
    told = operator_api.post(f"/api/sessions/{source['id']}/clone", {"reuse": True}, format="json")
    assert kept["reuse"] is False and told.json()["session"]["reuse"] is True

    before = row_counts()
    refused = operator_api.post(f"/api/sessions/{source['id']}/clone", {"reuse": "no"}, format="json")
    assert_refused(refused, 400, "reuse")
    assert row_counts() == before


def test_a_created_sessions_reuse_can_be_patched(operator_api, assert_refused):
    session = operator_api.post("/api/sessions", BODY, format="json").json()["session"]
    patched = operator_api.patch(f"/api/sessions/{session['id']}", {"reuse": False}, format="json")
    assert patched.json()["session"]["reuse"] is False
    assert_refused(
        operator_api.patch(f"/api/sessions/{session['id']}", {"reuse": 3}, format="json"), 400, "reuse"
    )
