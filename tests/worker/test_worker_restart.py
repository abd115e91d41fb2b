"""A worker that starts again fails what its previous life left running (it cannot be
running it any more), without waiting for the heartbeat to go stale: with
RESUME_LOST_SESSIONS=false it fails them; by default it queues them again to resume."""

import socket

import pytest

from sessions_app import services
from sessions_app.models import Session
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_restarted_worker_fails_the_sessions_it_left_running(worker_process, operator, settings):
    settings.STALE_AFTER_SECONDS = 3600  # the heartbeat alone would not fail it for an hour
    nodename = f"restarted@{socket.gethostname()}"
    session = services.session_create(
        user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
    )
    # Its previous life: started, claimed by process 4242 of that worker, then gone.
    Session.objects.filter(pk=session.pk).update(status="running")
    assert services.session_claim(session_id=session.pk, worker=f"{nodename}:4242", pid=4242)
    other = services.session_create(
        user=operator, data={"type": "test", "market": "ETHUSD", "strategy": "TestBot"}
    )
    Session.objects.filter(pk=other.pk).update(status="running")
    services.session_claim(session_id=other.pk, worker="elsewhere@otherhost:99", pid=99)

    worker_process(
        queues=("scraper",),
        name=nodename,
        extra_env={"STALE_AFTER_SECONDS": "3600", "RESUME_LOST_SESSIONS": "false"},
    )

    failed = wait_for(
        lambda: Session.objects.filter(pk=session.pk, status="failed").first(),
        timeout=60,
        message="the restarted worker to fail its leftover",
    )
    assert failed.error == f"Worker lost: {nodename}:4242 restarted."
    assert Session.objects.get(pk=other.pk).status == "running"  # another worker's: untouched
    services.session_finish(session=other, status="stopped")
