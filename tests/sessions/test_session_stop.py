"""services.session_stop and session_finish: how a running session ends."""

import pytest

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import Session


def test_an_unclaimed_session_stops_at_once(make_session):
    session = make_session(start=True)

    stopped = services.session_stop(session=session)

    assert stopped.status == "stopped" and stopped.stopped_at is not None
    assert list(stopped.events.values_list("event_type", flat=True)) == ["created", "started", "stopped"]
    assert list(stopped.runs.values_list("status", flat=True)) == ["stopped"]


def test_a_claimed_session_is_asked_to_stop(make_session):
    session = make_session(start=True)
    Session.objects.filter(pk=session.pk).update(worker="host-1", pid=7)

    asked = services.session_stop(session=session)

    assert (asked.status, asked.stop_requested) == ("running", True)
    assert list(asked.events.values_list("event_type", flat=True)) == ["created", "started"]


def test_it_refuses_a_created_session(make_session):
    with pytest.raises(Conflict, match="created"):
        services.session_stop(session=make_session())


def test_a_failure_keeps_its_error(make_session):
    session = make_session(type="backtest", start=True)

    services.session_finish(session=session, status="failed", error="No candles in range.")

    session.refresh_from_db()
    assert (session.status, session.error) == ("failed", "No candles in range.")
    last = session.events.last()
    assert (last.event_type, last.event_data) == ("error", {"error": "No candles in range."})


def test_finishing_twice_changes_nothing(make_session):
    session = make_session(type="backtest", start=True)
    services.session_finish(session=session, status="completed")
    stopped_at = Session.objects.get(pk=session.pk).stopped_at

    services.session_finish(session=session, status="failed", error="late")

    session.refresh_from_db()
    assert (session.status, session.error, session.stopped_at) == ("completed", None, stopped_at)
    assert list(session.events.values_list("event_type", flat=True)) == ["created", "started", "completed"]
