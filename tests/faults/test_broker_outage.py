"""The broker down at a start: the start is refused with 503 in the JSON envelope, quickly,
and the session is left `created` (never a 500, never a session stuck `running`); with the
broker back the same session starts. The web app runs as a process of its own whose broker is
a Redis of the test's own, on a port of its own."""

from __future__ import annotations

import os
import time

import pytest
from rest_framework.authtoken.models import Token

from sessions_app import services
from sessions_app.models import Session, SessionEvent
from tests.faults.servers import Api, Redis, Web
from tests.worker_fixtures import current_database_url

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_start_with_the_broker_down_is_refused_with_503_and_the_session_stays_created(
    operator, tmp_path, data_root, measured
):
    redis = Redis(tmp_path)  # its port, not listening yet: the broker is down
    env = {
        **os.environ,
        "DATABASE_URL": current_database_url(),
        "DATA_ROOT": str(data_root),
        "VAR_DIR": str(tmp_path / "var"),
        "REDIS_URL": "",
        "CELERY_BROKER_URL": redis.url,
        "CELERY_BROKER_PREFIX": "faults-broker:",
    }
    web = Web(env, tmp_path / "web.log")
    try:
        api = Api(web.url, Token.objects.create(user=operator).key)
        session = services.session_create(
            user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
        )
        asked = time.monotonic()
        status, body = api.call("POST", f"/api/sessions/{session.pk}/start")
        refused = time.monotonic() - asked
        assert status == 503, body
        assert body["success"] is False and "broker" in body["error"]
        session.refresh_from_db()
        assert session.status == "created" and session.started_at is None
        assert SessionEvent.objects.filter(session=session, event_type="info").count() == 1
        assert api.call("GET", f"/api/sessions/{session.pk}")[0] == 200

        redis.start()
        status, body = api.call("POST", f"/api/sessions/{session.pk}/start")
        assert status == 200 and body["session"]["status"] == "running", body
        measured(f"Broker down: a start refused with 503 in {refused:.2f} s; accepted once it was back")
        # No worker serves this broker: the unclaimed session stops at once.
        assert api.call("POST", f"/api/sessions/{session.pk}/stop")[0] == 200
        assert Session.objects.get(pk=session.pk).status == "stopped"
    finally:
        web.close()
        redis.close()
