"""Redis killed for 20 s under a running live session: every read answers 200 from the
database, the session runs on with no error and its progress moves on; afterwards its trades
equal a backtest of its window. The Redis is the test's own, on a port of its own: the cache
of the test's reads and the worker's, and the worker's broker too (as in a deployment)."""

from __future__ import annotations

import time
import uuid

import pytest
from celery import Celery

from config.env import redis_cache
from sessions_app.models import Session, SessionEvent, Trade
from tests.faults.servers import Redis
from tests.faults.test_worker_faults import LIVE, stop_and_check_parity
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

OUTAGE_SECONDS = 20


def test_reads_and_the_session_survive_redis_down_for_20_seconds(
    worker_process, operator_api, settings, tmp_path, measured, client, operator
):
    redis = Redis(tmp_path).start()
    try:
        prefix = f"faults-{uuid.uuid4().hex[:6]}"
        # As with REDIS_URL set: the cache and the API throttles' counters on this Redis.
        cache = redis_cache(redis.url, prefix)
        settings.CACHES = {"default": cache, "throttle": cache}
        worker_process(
            queues=("test",),
            extra_env={
                "REDIS_URL": redis.url,
                "CACHE_PREFIX": prefix,
                "CELERY_BROKER_URL": redis.url,
                "CELERY_BROKER_PREFIX": f"{prefix}:",
            },
        )
        session_id = operator_api.post("/api/sessions", LIVE, format="json").json()["session"]["id"]
        assert operator_api.post(f"/api/sessions/{session_id}/start").status_code == 200
        # The start went to the test run's broker, which this worker does not read: the same
        # message to the worker's broker (a duplicate left behind is refused by the claim).
        broker = Celery("faults", broker=redis.url, set_as_current=False)
        broker.conf.broker_transport_options = {"global_keyprefix": f"{prefix}:"}
        broker.send_task("sessions.run", args=[session_id], queue="test", ignore_result=True)
        broker.close()

        def progress():
            body = operator_api.get(f"/api/sessions/{session_id}").json()["session"]
            return (body["progress"] or {}).get("done", 0)

        wait_for(
            lambda: Trade.objects.filter(run__session_id=session_id).count() >= 2 and progress() >= 3,
            timeout=90,
            message="trades and live progress",
        )
        client.force_login(operator)
        redis.kill()
        down = time.monotonic()
        at_kill = Session.objects.get(pk=session_id).progress_done
        paths = [
            f"/api/sessions/{session_id}",
            "/api/sessions",
            f"/api/sessions/{session_id}/events",
            f"/api/sessions/{session_id}/metrics",
            f"/api/sessions/{session_id}/equity",
            f"/api/sessions/{session_id}/trades",
        ]
        reads, slowest = 0, 0.0
        while time.monotonic() - down < OUTAGE_SECONDS:
            for path in paths:
                asked = time.monotonic()
                response = operator_api.get(path)
                slowest = max(slowest, time.monotonic() - asked)
                assert response.status_code == 200, (path, response.status_code, response.content[:300])
                reads += 1
            for page in ("/", f"/sessions/{session_id}/", f"/sessions/{session_id}/live/"):
                assert client.get(page).status_code == 200, page
            time.sleep(0.5)
        during = Session.objects.get(pk=session_id)
        assert during.status == "running" and not during.error
        # Progress while Redis is down: from the database's checkpoints.
        assert progress() > at_kill

        redis.start()
        back = time.monotonic()
        moved = wait_for(
            lambda: progress() > during.progress_done, timeout=30, message="progress after the outage"
        )
        measured(
            f"Redis down {OUTAGE_SECONDS} s: {reads} API reads all 200 (slowest {slowest:.2f} s); "
            f"progress {at_kill} -> {moved and progress()} candles, seen moving {time.monotonic() - back:.1f} s "
            "after Redis was back"
        )
        session = Session.objects.get(pk=session_id)
        assert session.status == "running" and not session.error
        assert not SessionEvent.objects.filter(session_id=session_id, event_type="error").exists()
        stop_and_check_parity(operator_api, session_id)
    finally:
        redis.close()
