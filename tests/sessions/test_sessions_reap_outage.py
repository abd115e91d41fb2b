"""Right after a database outage the reaper forgives stale heartbeats: the runners could not
write them (they keep them in memory), so a late heartbeat says nothing about the worker."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app import outages, services
from sessions_app.models import Session

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_heartbeat_an_outage_delayed_is_forgiven_then_judged_again(operator, settings):
    settings.STALE_AFTER_SECONDS = 1
    settings.RESUME_LOST_SESSIONS = False  # failed, so the verdict shows on the row
    session = services.session_create(
        user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
    )
    Session.objects.filter(pk=session.pk).update(status="running")
    assert services.session_claim(session_id=session.pk, worker="alive@host:7", pid=7)
    Session.objects.filter(pk=session.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=30))

    outages.database_down_noted()  # this process just saw the database down
    assert services.sessions_reap() == []
    assert Session.objects.get(pk=session.pk).status == "running"

    time.sleep(settings.STALE_AFTER_SECONDS + 0.2)  # the outage is over for longer than that
    assert services.sessions_reap() == [session.pk]
    assert Session.objects.get(pk=session.pk).error.startswith("Worker lost")
