"""A scraper session records the feed into the archive's daily partitions."""

from datetime import UTC, datetime

import pytest

from sessions_app.models import Session
from tests.worker_fixtures import wait_for

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]


def test_a_scraper_writes_archive_partitions_and_counts_data_points(celery_worker, operator_api, data_root):
    created = operator_api.post(
        "/api/sessions",
        {
            "type": "scraper",
            "market": "XBTUSD",
            "strategy": "MarketScraper",
            "timeframe": "1s",
            "strategy_params": {"archive_interval": 1},
        },
        format="json",
    ).json()["session"]
    operator_api.post(f"/api/sessions/{created['id']}/start")

    def recorded():
        progress = operator_api.get(f"/api/sessions/{created['id']}").json()["session"]["progress"]
        return progress if (progress or {}).get("done", 0) >= 3 else None

    wait_for(recorded, timeout=30, message="three data points")
    partition = data_root / "archive" / "sim" / "XBTUSD" / datetime.now(tz=UTC).strftime("%Y-%m-%d")
    wait_for(lambda: partition.is_dir() and any(partition.iterdir()), timeout=10, message="a partition file")

    operator_api.post(f"/api/sessions/{created['id']}/stop")
    session = wait_for(
        lambda: Session.objects.filter(pk=created["id"], status="stopped").first(),
        timeout=10,
        message="the scraper to stop",
    )
    assert session.progress_done >= 3
