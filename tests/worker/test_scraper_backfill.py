"""A scraper that starts again, or is resumed after its worker stopped, backfills: the candles
missed while it was down (here the last 2 minutes of 1s candles) are fetched and recorded, none
fetched twice, then it records live as before."""

import time

import numpy as np
import pytest

from bots import archive
from bots.exchanges.sim import SimExchange
from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent
from tests.worker_fixtures import session_ended, wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

SCRAPER = {
    "type": "scraper",
    "market": "XBTUSD",
    "strategy": "MarketScraper",
    "timeframe": "1s",
    "strategy_params": {"archive_interval": 1},
}
GAP = 120  # seconds of 1s candles the scraper was down for
RECORDED = 60  # seconds it had recorded before


def _recorded_before(root) -> int:
    """The archive as a scraper left it 2 minutes ago: RECORDED candles up to GAP seconds ago.
    Returns the open time of the first."""
    last = int(time.time()) - GAP
    first = last - RECORDED + 1
    archive.write(
        str(root), "sim", "XBTUSD", "1s", SimExchange().fetch_candles("XBTUSD", "1s", first, last + 1)
    )
    assert archive.latest_time(str(root), "sim", "XBTUSD", "1s") == last
    return first


def _recording_past(root, moment: float) -> int:
    """Wait until the archive holds candles opening after `moment` (live ones); their newest."""

    def newest():
        latest = archive.latest_time(str(root), "sim", "XBTUSD", "1s")
        return latest if latest is not None and latest > moment + 2 else None

    return wait_for(newest, timeout=45, message="live candles in the archive")


def _stop(api, session_id) -> Session:
    api.post(f"/api/sessions/{session_id}/stop")
    session = wait_for(lambda: session_ended(session_id), timeout=15, message="the scraper to stop")
    assert session.status == "stopped", session.error
    return session


def _assert_every_candle(root, first: int, last: int) -> None:
    stored = archive.load(str(root), "sim", "XBTUSD", "1s", first, last + 1)
    np.testing.assert_array_equal(stored.time, np.arange(first, last + 1))  # no hole, none twice
    expected = SimExchange().fetch_candles("XBTUSD", "1s", first, last + 1)
    np.testing.assert_array_equal(stored.close, expected.close)  # the exchange's own candles


def _assert_fetched_once(session: Session) -> None:
    """Every candle the scraper received was new to the archive: it started after its newest."""
    metrics = Run.objects.get(session=session).metrics
    assert metrics["data_points"] >= GAP
    assert metrics["stored"] == metrics["data_points"], metrics


def test_a_scraper_started_again_records_the_candles_it_missed(celery_worker, operator_api, data_root):
    first = _recorded_before(data_root)
    session_id = operator_api.post("/api/sessions", SCRAPER, format="json").json()["session"]["id"]
    started = time.time()
    assert operator_api.post(f"/api/sessions/{session_id}/start").status_code == 200

    last = _recording_past(data_root, started)
    session = _stop(operator_api, session_id)

    _assert_every_candle(data_root, first, last)
    _assert_fetched_once(session)
    logs = operator_api.get(f"/api/sessions/{session_id}/logs?tail=100").json()["lines"]
    assert any("Backfill:" in line for line in logs)


def test_a_scraper_resumed_after_its_worker_stopped_records_the_gap(
    celery_worker, operator, operator_api, data_root
):
    first = _recorded_before(data_root)
    session = services.session_create(user=operator, data=SCRAPER)
    # Its previous life: started, run by a worker that recorded until 2 minutes ago, then gone.
    gone = "gone@elsewhere:4242"
    Session.objects.filter(pk=session.pk).update(status="running")
    assert services.session_claim(session_id=session.pk, worker=gone, pid=4242)
    Run.objects.filter(session=session).update(status="running", worker=gone, pid=4242)
    started = time.time()
    assert services.session_redispatch(session_id=session.pk, worker=gone, reason="Worker lost: test.")

    last = _recording_past(data_root, started)
    assert SessionEvent.objects.filter(session=session, event_type="resumed").exists()
    stopped = _stop(operator_api, session.pk)

    _assert_every_candle(data_root, first, last)
    _assert_fetched_once(stopped)
