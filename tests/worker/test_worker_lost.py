"""With RESUME_LOST_SESSIONS=false, a session whose worker was SIGKILLed is failed ("worker
lost"), with no worker alive. (By default it is resumed: tests/faults/test_worker_faults.py.)"""

import pytest

from sessions_app.models import Session
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_session_whose_worker_was_killed_is_failed_within_stale_after_seconds(
    worker_process, operator_api, settings
):
    settings.STALE_AFTER_SECONDS = 3
    settings.RESUME_LOST_SESSIONS = False
    process = worker_process(queues=("test",))
    created = operator_api.post(
        "/api/sessions", {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}, format="json"
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")
    claimed = wait_for(
        lambda: Session.objects.filter(pk=created["id"]).exclude(worker=None).first(),
        timeout=60,
        message="the worker process to claim the session",
    )
    assert claimed.status == "running"

    process.kill()  # SIGKILL: no cleanup, no goodbye
    process.wait(timeout=10)

    # Reads reap lazily; no worker and no scheduler are alive now.
    def failed():
        body = operator_api.get(f"/api/sessions/{created['id']}").json()["session"]
        return body if body["status"] == "failed" else None

    body = wait_for(
        failed,
        timeout=settings.STALE_AFTER_SECONDS + 12,
        interval=0.5,
        message="the session to be failed as worker lost",
    )
    assert body["error"].startswith("Worker lost")
