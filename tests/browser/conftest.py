"""Browser tests: pytest-playwright drives Debian's Chromium against pytest-django's live
server, with a real in-process Celery worker running the sessions the browser starts.

Playwright's sync API keeps an event loop running in the main thread; Django would then call
every ORM query in the test "async-unsafe", hence DJANGO_ALLOW_ASYNC_UNSAFE (set on import,
before any fixture runs a query).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from tests.worker_fixtures import wait_for  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 800}


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Debian's Chromium, never a downloaded browser."""
    return {**browser_type_launch_args, "executable_path": CHROMIUM, "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def base_url(live_server):
    """Relative URLs (page.goto("/history/")) go to the live server."""
    return live_server.url


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": VIEWPORT, "locale": "en-US", "timezone_id": "UTC"}


@pytest.fixture(scope="session", autouse=True)
def delete_output_dir():
    """pytest-playwright's own version deletes ./test-results of the shared working tree at
    start-up; these tests write no artifacts there, so leave it alone."""


@pytest.fixture
def page(page, live_server):
    """A page whose expectations wait a little longer than the default 5 s (a worker, an
    HTMX poll every 2 s and a test database on MariaDB sit between click and effect)."""
    from playwright.sync_api import expect

    expect.set_options(timeout=15_000)
    page.set_default_timeout(15_000)
    return page


@pytest.fixture
def operator_page(page, operator):
    """Olga (operate permission) logged in through the login form, on Running Sessions."""
    from tests.browser.helpers import login

    login(page, operator.username)
    return page


@pytest.fixture
def worker(celery_worker):  # noqa: F811  (the fixture, not the import)
    """The real worker, and on the way out a safety net: whatever a failing test left running
    is stopped (and waited for) before the worker shuts down. A passing test leaves nothing."""
    yield celery_worker
    from sessions_app import services
    from sessions_app.errors import ServiceError
    from sessions_app.models import Session, Status

    for session in Session.objects.filter(status=Status.RUNNING):
        try:
            services.session_stop(session=session)
        except ServiceError:
            pass
    wait_for(
        lambda: not Session.objects.filter(status=Status.RUNNING).exists(),
        timeout=20,
        message="left-over sessions to stop",
    )


@pytest.fixture
def screenshot():
    """`screenshot(page, "running")` -> var/screenshots/running.png (the 1280x800 viewport;
    `full_page=True` for the whole page)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def shoot(page, name: str, *, full_page: bool = False) -> Path:
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page)
        return path

    return shoot
