"""A list's `total` is counted once and cached, and never wrong after the services change rows.

CACHED_FROM is lowered so a handful of rows count as a large list. The services' version bumps
run once their transaction commits (django_capture_on_commit_callbacks runs them here).
"""

from __future__ import annotations

import socket
import uuid
from contextlib import contextmanager

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from redis.exceptions import ConnectionError as RedisConnectionError

from config.env import redis_cache
from sessions_app import list_totals, selectors, services
from sessions_app.models import Session


@pytest.fixture(autouse=True)
def small_lists_are_cached(db, monkeypatch, django_capture_on_commit_callbacks):
    monkeypatch.setattr(list_totals, "CACHED_FROM", 1)
    # Another test's totals must not be read under this test's rows.
    with django_capture_on_commit_callbacks(execute=True):
        list_totals.sessions_changed()
    yield
    with django_capture_on_commit_callbacks(execute=True):
        list_totals.sessions_changed()  # nor this test's small totals under another's


def bulk(count: int, **fields) -> None:
    Session.objects.bulk_create(
        [
            Session(
                id=str(uuid.uuid4()),
                name=f"Bulk {i}",
                type="test",
                market="XBTUSD",
                strategy="TestBot",
                **fields,
            )
            for i in range(count)
        ]
    )


def total(client, **query) -> int:
    response = client.get("/api/sessions", {"limit": 2, **query})
    assert response.status_code == 200, response.content[:300]
    return response.json()["total"]


def counts_made(client, **query) -> int:
    with CaptureQueriesContext(connection) as queries:
        total(client, **query)
    # The list's count (the runs' summaries count runs, in other queries).
    return sum("__count" in q["sql"] and "runs" not in q["sql"] for q in queries.captured_queries)


def test_a_large_total_is_counted_once_then_read_from_the_cache(viewer_api):
    bulk(5)

    assert counts_made(viewer_api) == 1
    assert counts_made(viewer_api) == 0
    assert total(viewer_api) == 5
    assert counts_made(viewer_api, status="created") == 1  # each filter has its own total


@contextmanager
def committed(capture):
    """What runs when the service's transaction commits, but only the totals' refresh: the
    start's queueing would send a task to the broker that a later test's worker picks up."""
    with capture(execute=False) as callbacks:
        yield
    for callback in callbacks:
        if callback.__module__ == list_totals.__name__:
            callback()


def test_creates_deletes_and_status_changes_through_the_services_refresh_it(
    viewer_api, operator, django_capture_on_commit_callbacks
):
    bulk(5)
    assert total(viewer_api) == 5 and total(viewer_api, status="running") == 0

    with committed(django_capture_on_commit_callbacks):
        made = services.session_create(
            user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
        )
    assert total(viewer_api) == 6

    with committed(django_capture_on_commit_callbacks):
        services.session_start(session=made)
    assert total(viewer_api, status="running") == 1

    with committed(django_capture_on_commit_callbacks):
        services.session_stop(session=made)
    assert total(viewer_api, status="running") == 0

    with committed(django_capture_on_commit_callbacks):
        services.session_delete(session=made)
    assert total(viewer_api) == 5


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


@pytest.mark.parametrize("raising", [False, True], ids=["as-configured", "raising"])
def test_a_cache_that_is_down_falls_back_to_counting(raising, django_capture_on_commit_callbacks):
    """A Redis nobody listens on: as the product configures it (errors read as misses) and
    one whose calls raise (the except branches of list_totals)."""
    down = redis_cache(f"redis://127.0.0.1:{_closed_port()}/0", "down")
    down["OPTIONS"] = {**down["OPTIONS"], "IGNORE_EXCEPTIONS": not raising, "SOCKET_CONNECT_TIMEOUT": 0.1}
    bulk(3)

    def listed_total() -> int:
        return selectors.session_list(filters=selectors.SessionFilters(), limit=2).total

    with override_settings(CACHES={"default": down}, DJANGO_REDIS_IGNORE_EXCEPTIONS=not raising):
        if raising:
            with pytest.raises(RedisConnectionError):
                cache.get("anything")  # the cache is really down, and says so
        assert listed_total() == 3
        bulk(2)
        assert listed_total() == 5
        with django_capture_on_commit_callbacks(execute=True) as bumps:
            list_totals.sessions_changed()  # a bump that cannot reach the cache is no error
        assert len(bumps) == 1


def test_a_short_first_page_is_its_own_total_without_a_count(viewer_api):
    bulk(2)

    assert counts_made(viewer_api, limit=10) == 0
    assert total(viewer_api, limit=10) == 2
