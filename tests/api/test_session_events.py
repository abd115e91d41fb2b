"""GET /api/sessions/<id>/events: the session's story."""

import time


def test_it_tells_created_started_stopped_in_order(operator_api, make_session):
    session = make_session(name="Story")
    operator_api.post(f"/api/sessions/{session.id}/start")
    operator_api.post(f"/api/sessions/{session.id}/stop")
    now = int(time.time())

    response = operator_api.get(f"/api/sessions/{session.id}/events")

    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert body["total"] == 3
    assert [e["event_type"] for e in body["events"]] == ["created", "started", "stopped"]
    assert body["events"][0]["event_data"] == {"name": "Story"}
    assert all(isinstance(e["created_at"], int) and abs(e["created_at"] - now) <= 5 for e in body["events"])


def test_it_pages_events(operator_api, make_session):
    session = make_session(stop=True)

    body = operator_api.get(f"/api/sessions/{session.id}/events?limit=2&offset=1").json()

    assert [e["event_type"] for e in body["events"]] == ["started", "stopped"]
    assert (body["total"], body["limit"], body["offset"]) == (3, 2, 1)


def test_it_shows_only_the_sessions_own_events(operator_api, make_session):
    session = make_session()
    make_session(stop=True)

    body = operator_api.get(f"/api/sessions/{session.id}/events").json()

    assert [e["event_type"] for e in body["events"]] == ["created"]


def test_an_offset_past_any_page_is_not_a_500(operator_api, make_session):
    session = make_session()

    response = operator_api.get(f"/api/sessions/{session.id}/events?offset=99999999999999999999")

    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["events"] == []
