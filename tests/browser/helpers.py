"""Steps the browser tests share."""

from __future__ import annotations

import re

from playwright.sync_api import Page, expect

PASSWORD = "pw-for-tests-1"  # the personas' password (tests/conftest.py)


def login(page: Page, username: str, password: str = PASSWORD) -> None:
    """Through the real login form; lands on Running Sessions."""
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("link", name="Running Sessions")).to_have_attribute("aria-current", "page")
    expect(page.locator(".topbar .user")).to_have_text(username)


def path_of(page: Page) -> str:
    """The page's path and query, without the live server's origin."""
    return re.sub(r"^https?://[^/]+", "", page.url)


def open_new_session_modal(page: Page):
    """+ New Session -> the Create New Session dialog; returns the dialog."""
    page.get_by_role("link", name="+ New Session").click()
    dialog = page.get_by_role("dialog", name="Create New Session")
    expect(dialog).to_be_visible()
    return dialog


def running_section(page: Page):
    return page.locator("section", has=page.locator("#running-title"))


def created_section(page: Page):
    return page.locator("section", has=page.locator("#created-title"))


def row(scope, session_id: str):
    return scope.locator(f'[data-session-id="{session_id}"]')
