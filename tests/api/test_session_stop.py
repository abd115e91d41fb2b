"""POST /api/sessions/<id>/stop: a running session stops (at once when no worker has it)."""

import time

from sessions_app.models import Session


def test_it_stops_a_session_no_worker_has_claimed(operator_api, make_session):
    session = make_session(start=True)
    before = int(time.time())

    response = operator_api.post(f"/api/sessions/{session.id}/stop")

    assert response.status_code == 200
    data = response.json()["session"]
    assert data["status"] == "stopped"
    assert isinstance(data["stopped_at"], int) and abs(data["stopped_at"] - before) <= 5
    assert data["stopped_at"] >= data["started_at"]
    assert list(session.runs.values_list("status", flat=True)) == ["stopped"]


def test_it_asks_a_claimed_session_to_stop(operator_api, make_session):
    session = make_session(start=True)
    # What the task's claim writes; the runner then sees the flag and stops itself.
    Session.objects.filter(pk=session.pk).update(worker="host-1", pid=99)

    data = operator_api.post(f"/api/sessions/{session.id}/stop").json()["session"]

    assert (data["status"], data["stop_requested"], data["stopped_at"]) == ("running", True, None)
    assert Session.objects.get(pk=session.pk).stop_requested is True


def test_it_refuses_a_session_that_is_not_running(operator_api, make_session, assert_refused):
    created = make_session()
    stopped = make_session(stop=True)

    assert "created" in assert_refused(operator_api.post(f"/api/sessions/{created.id}/stop"), 409)["error"]
    assert "stopped" in assert_refused(operator_api.post(f"/api/sessions/{stopped.id}/stop"), 409)["error"]
    assert Session.objects.get(pk=created.pk).status == "created"
