"""services.session_start: created -> running under the limit, the task queued on commit."""

import pytest

from sessions_app import services
from sessions_app.errors import Conflict
from sessions_app.models import Session


def test_it_queues_the_task_only_once_the_transaction_commits(
    make_session, django_capture_on_commit_callbacks
):
    session = make_session()

    # Captured, not executed: no broker or worker in these tests.
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        started = services.session_start(session=session)

    assert started.status == "running" and started.started_at is not None
    # The queueing (beside the list totals' refresh, also on commit).
    assert len([c for c in callbacks if c.__module__ != "sessions_app.list_totals"]) == 1
    assert list(started.events.values_list("event_type", flat=True)) == ["created", "started"]


def test_a_refused_start_queues_nothing(make_session, django_capture_on_commit_callbacks):
    session = make_session(start=True)

    with django_capture_on_commit_callbacks(execute=False) as callbacks, pytest.raises(Conflict):
        services.session_start(session=session)

    assert callbacks == []
    assert list(session.events.values_list("event_type", flat=True)) == ["created", "started"]


def test_it_refuses_beyond_the_limit_naming_it(make_session, settings):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 5}
    for _ in range(3):
        make_session(start=True)
    fourth = make_session()

    with pytest.raises(Conflict) as refused:
        services.session_start(session=fourth)

    assert refused.value.status == 409
    assert "SESSION_LIMITS test=3" in refused.value.message
    assert "3 running live test sessions" in refused.value.message
    assert Session.objects.get(pk=fourth.pk).status == "created"


def test_finished_sessions_do_not_count_against_the_limit(make_session, settings):
    settings.SESSION_LIMITS = {"test": 1, "backtest": 1, "scraper": 5}
    make_session(stop=True)
    make_session(stop=True)

    assert make_session(start=True).status == "running"


def test_a_limit_of_zero_refuses_every_start(make_session, settings):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 0}

    with pytest.raises(Conflict, match="scraper=0"):
        make_session(type="scraper", strategy="MarketScraper", start=True)


def test_a_stale_object_cannot_start_twice(make_session, session_limits):
    session = make_session()
    services.session_start(session=session)

    with pytest.raises(Conflict, match="running"):
        services.session_start(session=Session.objects.get(pk=session.pk))
