"""Each run says who computed it and on what candles: worker, pid, times and data fingerprint."""

import os

import pytest

from sessions_app.models import Run
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def test_every_run_of_a_sweep_carries_its_worker_pid_times_and_data_fingerprint(celery_worker, operator_api):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "sweep": {"n1": [5, 10]},
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")
    session = wait_for(lambda: session_ended(created["id"]), timeout=60, message="the sweep to end")
    assert session.status == "completed", session.error

    runs = operator_api.get(f"/api/sessions/{session.pk}/runs").json()["runs"]
    assert len(runs) == 2
    for run in runs:
        assert run["worker"] == session.worker and run["worker"].endswith(f":{os.getpid()}")
        assert run["pid"] == session.pid == os.getpid()  # the in-process test worker
        assert run["started_at"] and run["stopped_at"] >= run["started_at"]
        assert len(run["data_fingerprint"]) == 16 and run["reused_from"] is None
    # One fingerprint per session: both runs read the same candles.
    assert runs[0]["data_fingerprint"] == runs[1]["data_fingerprint"]
    detail = operator_api.get(f"/api/sessions/{session.pk}/runs/{runs[0]['config_hash']}").json()["run"]
    assert detail["data_fingerprint"] == runs[0]["data_fingerprint"]
    assert Run.objects.filter(session=session, worker__isnull=True).count() == 0
