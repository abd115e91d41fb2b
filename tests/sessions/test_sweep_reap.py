"""The reaper and a sweep spread over processes: a run whose process stopped heartbeating
fails alone; a sweep no process heartbeats any more ends with what completed."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def sweep(make_session, settings, tmp_path):
    settings.DATA_ROOT = tmp_path / "data"
    settings.STALE_AFTER_SECONDS = 30
    session = make_session(
        type="backtest",
        market="ETHUSD",
        strategy="SmaCross",
        sweep={"n1": [3, 5], "n2": [30, 60]},
        start=True,
    )
    Session.objects.filter(pk=session.pk).update(worker="a@host:1", pid=1, heartbeat_at=timezone.now())
    return session


def _runs(session):
    return list(Run.objects.filter(session=session).order_by("id"))


def test_a_run_whose_process_stopped_heartbeating_fails_and_the_others_go_on(sweep):
    now, old = timezone.now(), timezone.now() - timedelta(seconds=60)
    first, second, third, fourth = _runs(sweep)
    Run.objects.filter(pk=first.pk).update(status="completed", stopped_at=now)
    Run.objects.filter(pk=second.pk).update(status="running", worker="b@host:2", pid=2, heartbeat_at=old)
    Run.objects.filter(pk=third.pk).update(status="running", worker="a@host:1", pid=1, heartbeat_at=now)

    services.sessions_reap()

    first, second, third, fourth = _runs(sweep)
    assert second.status == "failed" and second.error.startswith("Worker lost")
    assert (first.status, third.status, fourth.status) == ("completed", "running", "created")
    assert Session.objects.get(pk=sweep.pk).status == "running"  # the rest is still computed


def test_a_sweep_nobody_heartbeats_ends_completed_with_its_lost_runs_reported(sweep, settings):
    # With RESUME_LOST_SESSIONS (the default) such a sweep is queued again instead
    # (tests/faults/test_lost_backtest.py); without it, what is left is lost.
    settings.RESUME_LOST_SESSIONS = False
    first, *_ = _runs(sweep)
    Run.objects.filter(pk=first.pk).update(status="completed", total_pnl=5, stopped_at=timezone.now())
    Session.objects.filter(pk=sweep.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))

    services.sessions_reap()

    session = Session.objects.get(pk=sweep.pk)
    assert session.status == "completed"
    lost = [r for r in _runs(sweep) if r.status == "failed"]
    assert len(lost) == 3 and all(r.error.startswith("Worker lost") for r in lost)
    report = SessionEvent.objects.get(session=sweep, event_type="error").event_data
    assert sorted(r["id"] for r in report["failed_runs"]) == sorted(r.pk for r in lost)
    assert session.trades_file  # written at the end like any sweep's


def test_a_sweep_nobody_heartbeats_with_nothing_completed_fails(sweep, settings):
    settings.RESUME_LOST_SESSIONS = False
    Session.objects.filter(pk=sweep.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))

    services.sessions_reap()

    session = Session.objects.get(pk=sweep.pk)
    assert session.status == "failed" and session.error.startswith("Worker lost")
    assert {r.status for r in _runs(sweep)} == {"failed"}
