"""A live test session made in the modal, started from its row on the real worker and stopped
from its row: it leaves Running and shows in History as stopped within seconds."""

import time

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session
from tests.browser.helpers import created_section, open_new_session_modal, row, running_section

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_live_test_session_is_started_and_stopped_from_its_row_and_lands_in_history_as_stopped(
    operator_page, worker, screenshot
):
    page = operator_page
    dialog = open_new_session_modal(page)
    expect(dialog.get_by_role("radio", name="Live Test")).to_be_checked()
    dialog.get_by_label("Market", exact=True).select_option("XBTUSD")
    dialog.get_by_label("Session Name (optional)", exact=True).fill("Browser live test")
    dialog.get_by_role("button", name="Create", exact=True).click()
    expect(dialog).to_be_hidden()

    session = Session.objects.get(name="Browser live test")
    assert (session.type, session.exchange, session.timeframe, session.status) == (
        "test",
        "sim",
        "1m",
        "created",
    )
    pending = row(created_section(page), session.pk)
    expect(pending).to_have_attribute("data-status", "created")
    expect(pending).to_contain_text("Not started")

    pending.get_by_role("button", name="Start").click()
    running = row(running_section(page), session.pk)
    expect(running).to_have_attribute("data-status", "running")
    expect(row(created_section(page), session.pk)).to_have_count(0)
    expect(page.get_by_role("heading", name="RUNNING SESSIONS (1)")).to_be_visible()
    # The worker has it (the row polls every 2 s): the stop is the runner's cooperative one.
    expect(running).not_to_contain_text("Waiting for a worker", timeout=20_000)
    expect(running).to_contain_text("PnL:")
    session.refresh_from_db()
    assert session.worker and session.status == "running"
    screenshot(page, "running")

    asked = time.monotonic()
    running.get_by_role("button", name="Stop").click()
    expect(row(running_section(page), session.pk)).to_have_count(0, timeout=10_000)
    took = time.monotonic() - asked
    assert took < 10, took
    expect(page.get_by_role("heading", name="RUNNING SESSIONS (0)")).to_be_visible()
    session.refresh_from_db()
    assert session.status == "stopped" and session.stopped_at is not None

    page.get_by_role("link", name="History").click()
    stopped = row(page.locator("#history-table"), session.pk)
    expect(stopped).to_have_attribute("data-status", "stopped")
    expect(stopped).to_contain_text("Browser live test")
    expect(stopped.locator(".badge")).to_have_text("Stopped")
