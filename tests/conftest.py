"""Personas and factories shared by the Django tests (sessions, strategies, API).

Personas: `operator` may act on sessions (the operate_session permission), `viewer` may only
look, `anon_api` is nobody. The API clients authenticate with real DRF tokens
(`Authorization: Token <key>`), the path scripts and other programs use.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

import pytest

from sessions_app import outages

# The real-worker fixtures (celery_worker, worker_process, broker_isolation, data_root), once
# for the whole run: the worker is shared by the worker and browser tests.
pytest_plugins = ["tests.worker_fixtures"]


@pytest.fixture(autouse=True)
def _no_outage_remembered():
    """Each test starts with no database outage seen by this process: the reaper forgives stale
    heartbeats for a while after one, which would leak from a fault test."""
    outages.database_down_forget()


def pytest_configure(config):
    # whitenoise warns on every request until collectstatic has run; tests serve no static files.
    config.addinivalue_line("filterwarnings", "ignore:No directory at:UserWarning")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix):
    """A test database per pytest process: several engineers (and CI) run suites at once in
    this tree, and they would otherwise create and drop the same SQLite file / MariaDB schema."""
    from pytest_django.fixtures import _set_suffix_to_test_databases

    _set_suffix_to_test_databases(suffix=f"p{os.getpid()}")


# --- personas -------------------------------------------------------------------------------


def _user(username: str, *, operate: bool = False, superuser: bool = False):
    from django.contrib.auth.models import Permission, User

    if superuser:
        user = User.objects.create_superuser(username, f"{username}@example.com", "pw-for-tests-1")
    else:
        user = User.objects.create_user(username, f"{username}@example.com", "pw-for-tests-1")
    if operate:
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label="sessions_app", codename="operate_session")
        )
    # A fresh instance: has_perm caches permissions on the object it first asked.
    return User.objects.get(pk=user.pk)


@pytest.fixture
def fast_passwords(settings):
    """PBKDF2's deliberate slowness costs half a second per user; tests need no such safety."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def operator(db, fast_passwords):
    return _user("olga", operate=True)


@pytest.fixture
def viewer(db, fast_passwords):
    return _user("victor")


@pytest.fixture
def admin_user(db, fast_passwords):
    return _user("ada", superuser=True)


def _token_client(user):
    from rest_framework.authtoken.models import Token
    from rest_framework.test import APIClient

    token, _ = Token.objects.get_or_create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    client.user = user
    return client


@pytest.fixture
def operator_api(operator):
    return _token_client(operator)


@pytest.fixture
def viewer_api(viewer):
    return _token_client(viewer)


@pytest.fixture
def anon_api(db):
    from rest_framework.test import APIClient

    return APIClient()


# --- factories ------------------------------------------------------------------------------

DAY = 86_400


def backtest_range(days: int = 7) -> dict[str, int]:
    """A past range ending yesterday (range_end must not be in the future)."""
    end = int(time.time()) - DAY
    return {"range_start": end - days * DAY, "range_end": end}


@pytest.fixture
def make_session(db) -> Callable[..., Any]:
    """Sessions made by the services, as users make them: `make_session(type="backtest",
    start=True, stop=True, user=..., **fields)`.

    `start=True` goes created -> running through session_start. Its queueing runs on commit,
    and under the `db` fixture's transaction nothing commits, so no task is ever sent.
    """
    from sessions_app import services

    def make(*, user=None, start: bool = False, stop: bool = False, **fields):
        data = {"type": "test", "market": "XBTUSD", "strategy": "TestBot", **fields}
        if data["type"] == "backtest" and "range_start" not in data and "range_end" not in data:
            data.update(backtest_range())
        session = services.session_create(user=user, data=data)
        if start or stop:
            session = services.session_start(session=session)
        if stop:
            session = services.session_stop(session=session)
        return session

    return make


@pytest.fixture
def session_limits(settings):
    """The default limits (3 test, 1 backtest, 5 scrapers), whatever the environment says."""
    settings.SESSION_LIMITS = {"test": 3, "backtest": 1, "scraper": 5}
    return settings.SESSION_LIMITS


def _refused(response, status: int, *fields: str) -> dict:
    """The API's error envelope with `status`, naming each of `fields` in `errors`."""
    assert response.status_code == status, (response.status_code, response.content[:500])
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"], str) and body["error"].strip()
    assert isinstance(body["errors"], dict)
    for field in fields:
        assert field in body["errors"], (field, body)
        assert body["errors"][field] and all(isinstance(m, str) for m in body["errors"][field])
    return body


@pytest.fixture
def assert_refused():
    return _refused


@pytest.fixture
def row_counts(db):
    """Rows of every session table, to show bad input wrote nothing."""
    from sessions_app.models import Run, Session, SessionEvent, Trade

    def counts() -> dict[str, int]:
        return {m.__name__: m.objects.count() for m in (Session, Run, SessionEvent, Trade)}

    return counts
