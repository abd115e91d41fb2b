"""A lost session is resumed at most MAX_RESUMES times in a row, then failed with the reason.
Before, a backtest whose worker was killed for memory was queued again by the
reaper every STALE_AFTER_SECONDS, without end."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Session
from sessions_app.services.reaper import RESUME_HEALTHY_SECONDS

pytestmark = pytest.mark.django_db(transaction=True)


def _claimed_then_lost(session: Session, n: int, *, ran_for: float = 5) -> None:
    """A worker claims the session and dies `ran_for` seconds after its resume: its last
    heartbeat is two minutes old (over STALE_AFTER_SECONDS) and that long after the resume."""
    assert services.session_claim(session_id=session.pk, worker=f"doomed-{n}@host:{n}", pid=n)
    last = timezone.now() - timedelta(seconds=120)
    resumed = Session.objects.get(pk=session.pk).resumed_at
    Session.objects.filter(pk=session.pk).update(
        heartbeat_at=last, resumed_at=resumed and last - timedelta(seconds=ran_for)
    )


@pytest.mark.parametrize("kind", ["backtest", "test"])
def test_a_session_whose_every_worker_dies_is_failed_after_max_resumes(operator, settings, no_worker, kind):
    settings.STALE_AFTER_SECONDS = 30
    settings.MAX_RESUMES = 3
    session = services.session_create(
        user=operator,
        data={"type": kind, "market": "XBTUSD", "strategy": "TestBot"}
        | ({"range_start": 1_704_067_200, "range_end": 1_704_153_600} if kind == "backtest" else {}),
    )
    # The tasks queued (the start, each resume) reach no worker: this test plays the workers.
    services.session_start(session=session)
    for n in range(1, 4):
        _claimed_then_lost(session, n)
        assert services.sessions_reap() == []
        row = Session.objects.get(pk=session.pk)
        assert (row.status, row.worker, row.resumes) == ("running", None, n)
    _claimed_then_lost(session, 4)
    assert services.sessions_reap() == [session.pk]

    row = Session.objects.get(pk=session.pk)
    assert row.status == "failed"
    assert row.error.startswith("Resumed 3 times, last worker lost.")
    assert "no heartbeat" in row.error
    resumed = [
        e.event_data["resume"] for e in row.events.filter(event_type="info") if "resume" in e.event_data
    ]
    assert resumed == [1, 2, 3]


def test_a_session_that_ran_healthy_since_its_last_resume_starts_counting_again(
    operator, settings, no_worker
):
    """A live session (or a scraper) that lives for months survives a node crash each month."""
    settings.STALE_AFTER_SECONDS = 30
    settings.MAX_RESUMES = 1
    session = services.session_create(
        user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
    )
    services.session_start(session=session)
    _claimed_then_lost(session, 1)
    assert services.sessions_reap() == []
    for n in range(2, 5):
        _claimed_then_lost(session, n, ran_for=RESUME_HEALTHY_SECONDS + 1)
        assert services.sessions_reap() == []
        assert Session.objects.get(pk=session.pk).resumes == 1
    _claimed_then_lost(session, 5)  # dies right after its resume: the second in a row
    assert services.sessions_reap() == [session.pk]
    assert Session.objects.get(pk=session.pk).error.startswith("Resumed 1 times, last worker lost.")
