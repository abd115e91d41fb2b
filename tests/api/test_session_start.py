"""POST /api/sessions/<id>/start: created -> running, under the per-type limit."""

import time

import pytest

from sessions_app.models import Session


def test_it_starts_a_created_session(operator_api, make_session, session_limits):
    session = make_session()
    before = int(time.time())

    response = operator_api.post(f"/api/sessions/{session.id}/start")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["session"]
    assert (data["id"], data["status"]) == (session.id, "running")
    assert isinstance(data["started_at"], int) and abs(data["started_at"] - before) <= 5
    assert data["stopped_at"] is None
    assert Session.objects.get(pk=session.pk).status == "running"


@pytest.mark.parametrize("state", ["running", "stopped"])
def test_it_refuses_a_session_that_is_not_created(
    operator_api, make_session, assert_refused, session_limits, state
):
    session = make_session(start=True, stop=state == "stopped")
    started_at = Session.objects.get(pk=session.pk).started_at

    body = assert_refused(operator_api.post(f"/api/sessions/{session.id}/start"), 409)

    assert state in body["error"]
    row = Session.objects.get(pk=session.pk)
    assert (row.status, row.started_at) == (state, started_at)


def test_it_refuses_the_fourth_test_session_naming_the_limit(
    operator_api, make_session, assert_refused, settings
):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 5}
    sessions = [make_session(name=f"T{i}") for i in range(4)]
    for session in sessions[:3]:
        assert operator_api.post(f"/api/sessions/{session.id}/start").status_code == 200

    body = assert_refused(operator_api.post(f"/api/sessions/{sessions[3].id}/start"), 409)

    assert "limit" in body["error"] and "test=3" in body["error"]
    assert Session.objects.get(pk=sessions[3].pk).status == "created"
    assert Session.objects.filter(status="running").count() == 3


def test_it_starts_again_once_one_stops(operator_api, make_session, settings):
    settings.SESSION_LIMITS = {"test": 1, "backtest": 1, "scraper": 5}
    first, second = make_session(), make_session()
    operator_api.post(f"/api/sessions/{first.id}/start")
    assert operator_api.post(f"/api/sessions/{second.id}/start").status_code == 409

    operator_api.post(f"/api/sessions/{first.id}/stop")

    assert operator_api.post(f"/api/sessions/{second.id}/start").status_code == 200


def test_it_counts_the_limit_per_type(operator_api, make_session, assert_refused, settings):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 5}
    make_session(type="backtest", start=True)
    test = make_session(type="test")
    backtest = make_session(type="backtest")

    assert operator_api.post(f"/api/sessions/{test.id}/start").status_code == 200
    body = assert_refused(operator_api.post(f"/api/sessions/{backtest.id}/start"), 409)
    assert "backtest=1" in body["error"]


def test_it_answers_404_for_an_unknown_session(operator_api, assert_refused):
    assert_refused(operator_api.post("/api/sessions/00000000-0000-0000-0000-000000000000/start"), 404)
