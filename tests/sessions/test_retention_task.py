"""The sessions.retention task and its daily beat entry (RETENTION_DAYS)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from sessions_app.models import Session
from sessions_app.tasks import sessions_retention
from tests.sessions.archive_helpers import finish
from tests.worker_fixtures import ROOT


@pytest.fixture(autouse=True)
def _room_for_sessions(session_limits, data_root):
    """Several test sessions at once; every file under a private DATA_ROOT."""


def test_with_retention_days_set_it_archives_what_is_old(make_session, settings, data_root):
    settings.RETENTION_DAYS = 30
    old = finish(make_session, days_ago=31)
    recent = finish(make_session, days_ago=29)
    running = make_session(start=True)

    summary = sessions_retention()

    assert summary == {"sessions": 1, "trades": 3, "skipped": 0, "failed": 0}
    assert set(Session.objects.values_list("pk", flat=True)) == {recent.pk, running.pk}
    assert list((data_root / "cold" / "sessions").rglob(f"{old.pk}.json.gz"))


def test_without_retention_days_it_does_nothing(make_session, settings, row_counts, data_root):
    settings.RETENTION_DAYS = None
    finish(make_session, days_ago=3650)
    before = row_counts()

    assert sessions_retention() is None

    assert row_counts() == before
    assert not (data_root / "cold").exists()


def _beat_schedule(retention_days: str | None) -> dict:
    """The scheduler's entries as settings compute them at import, with this environment."""
    env = {k: v for k, v in os.environ.items() if k != "RETENTION_DAYS"}
    env["DJANGO_SETTINGS_MODULE"] = "config.settings"
    if retention_days is not None:
        env["RETENTION_DAYS"] = retention_days
    code = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({v['task']: v['schedule'] for v in settings.CELERY_BEAT_SCHEDULE.values()}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_beat_schedule_has_the_daily_entry_only_when_retention_days_is_set():
    assert _beat_schedule("7")["sessions.retention"] == 86400.0
    assert "sessions.retention" not in _beat_schedule(None)
