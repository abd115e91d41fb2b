"""A backtest whose worker was lost is queued again (RESUME_LOST_SESSIONS): the runs it had
completed are kept as they were, the one it was in the middle of and the rest run again."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent, Trade
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def fake_trade(run: Run, entry_time: int) -> Trade:
    return Trade.objects.create(
        run=run, market="XBTUSD", side="long", entry_time=entry_time, entry_price=1, entry_size=1,
        exit_time=entry_time + 60, exit_price=1, exit_size=1, realized_pnl=0, fee=0,
    )  # fmt: skip


def test_a_lost_sweep_keeps_its_completed_runs_and_runs_the_rest_again(celery_worker, operator, settings):
    settings.STALE_AFTER_SECONDS = 5
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "strategy_params": {"threshold": 0.3},
            "sweep": {"threshold": [0.2, 0.3, 0.4]},
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "reuse": False,
        },
    )
    done, half, untouched = session.runs.order_by("id")
    # Its first life: a worker ran it, completed one run, was in the middle of the second, died.
    gone = "gone@elsewhere:4242"
    stale = timezone.now() - timedelta(seconds=60)
    Session.objects.filter(pk=session.pk).update(status="running", started_at=stale)
    assert services.session_claim(session_id=session.pk, worker=gone, pid=4242)
    Session.objects.filter(pk=session.pk).update(heartbeat_at=stale)
    Run.objects.filter(pk=done.pk).update(status="completed", worker=gone, total_pnl=123, trade_count=1)
    Run.objects.filter(pk=half.pk).update(status="running", worker=gone)
    kept = fake_trade(done, RANGE_START)
    fake_trade(half, RANGE_START)  # half done: must not survive

    assert services.sessions_reap() == []  # not failed: queued again
    ended = wait_for(lambda: session_ended(session.pk), timeout=90, message="the resumed backtest to end")

    assert ended.status == "completed", ended.error
    assert ended.worker != gone
    assert list(Trade.objects.filter(run=done).values_list("id", flat=True)) == [kept.pk]
    done.refresh_from_db()
    assert done.status == "completed" and done.trade_count == 1  # kept, not computed again
    for run in (half, untouched):
        run.refresh_from_db()
        assert run.status == "completed" and run.trade_count == Trade.objects.filter(run=run).count() > 1
        assert not Trade.objects.filter(run=run, entry_time=RANGE_START, exit_time=RANGE_START + 60).exists()
    kinds = list(SessionEvent.objects.filter(session=ended).values_list("event_type", flat=True))
    assert "resumed" in kinds and kinds[-1] == "completed"


def test_with_resume_off_a_lost_session_is_failed(celery_worker, operator, settings):
    settings.RESUME_LOST_SESSIONS = False
    settings.STALE_AFTER_SECONDS = 5
    session = services.session_create(
        user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
    )
    Session.objects.filter(pk=session.pk).update(status="running")
    assert services.session_claim(session_id=session.pk, worker="gone@elsewhere:1", pid=1)
    Session.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=60))
    assert services.sessions_reap() == [session.pk]
    assert Session.objects.get(pk=session.pk).error.startswith("Worker lost")
