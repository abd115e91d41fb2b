"""A sweep's `summary` is what its runs say, on the session object and in the detail view."""

import pytest

from sessions_app.models import Run
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def test_a_12_run_sweeps_summary_equals_what_its_runs_say(celery_worker, operator, operator_api, client):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "backtest",
            "market": "ETHUSD",
            "strategy": "SmaCross",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "sweep": {"n1": [3, 5, 8, 13], "n2": [30, 60, 90]},
        },
        format="json",
    ).json()["session"]
    assert created["summary"]["run_count"] == 12 and created["summary"]["completed_runs"] == 0
    operator_api.post(f"/api/sessions/{created['id']}/start")
    session = wait_for(lambda: session_ended(created["id"]), timeout=120, message="the sweep to end")
    assert session.status == "completed", session.error

    runs = operator_api.get(f"/api/sessions/{session.pk}/runs?limit=50").json()["runs"]
    assert len(runs) == 12 and {r["status"] for r in runs} == {"completed"}
    profits = [r["total_pnl"] for r in runs]
    best = max(runs, key=lambda r: (r["total_pnl"], -r["id"]))
    # The run that ended last, by the stored stamps: a sweep's runs end in several processes,
    # two within the same millisecond the API shows, in any id order.
    last_id = max(Run.objects.filter(session=session), key=lambda r: (r.stopped_at, r.id)).id
    last = next(r for r in runs if r["id"] == last_id)
    for summary in (
        operator_api.get(f"/api/sessions/{session.pk}").json()["session"]["summary"],
        next(
            s["summary"]
            for s in operator_api.get("/api/sessions?type=backtest").json()["sessions"]
            if s["id"] == session.pk
        ),
    ):
        assert summary["run_count"] == summary["completed_runs"] == 12
        assert summary["error_count"] == 0 and summary["active"] is False
        assert summary["best_profit"] == pytest.approx(max(profits))
        assert summary["best_config_hash"] == best["config_hash"]
        assert summary["avg_profit"] == pytest.approx(sum(profits) / 12, abs=1e-6)
        assert summary["last_config_hash"] == last["config_hash"]
        assert summary["current_profit"] == pytest.approx(last["total_pnl"])

    client.force_login(operator)
    page = client.get(f"/sessions/{session.pk}/").content.decode()
    assert "SWEEP SUMMARY" in page and best["config_hash"] in page
    assert Run.objects.filter(session=session).count() == 12
