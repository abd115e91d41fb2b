"""Log in through the real form; a wrong password is refused; pages need a login."""

import pytest
from playwright.sync_api import expect

from tests.browser.helpers import login, path_of

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_anonymous_visitor_is_sent_to_the_login_form_and_a_wrong_password_is_refused(page, operator):
    page.goto("/history/")
    assert path_of(page).startswith("/accounts/login/?next=/history/")
    page.get_by_label("Username").fill(operator.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("didn't match")
    expect(page.get_by_role("link", name="History")).to_have_count(0)


def test_an_operator_logs_in_and_lands_on_running_sessions_with_the_new_session_button(page, operator):
    login(page, operator.username)
    assert path_of(page) == "/"
    expect(page.get_by_role("heading", name="RUNNING SESSIONS (0)")).to_be_visible()
    expect(page.get_by_role("heading", name="PENDING / CREATED (0)")).to_be_visible()
    expect(page.get_by_role("link", name="+ New Session")).to_be_visible()
    for tab in ("Scrapers", "History"):
        expect(page.get_by_role("navigation", name="Sections").get_by_role("link", name=tab)).to_be_visible()


def test_a_viewer_can_look_at_every_tab_but_gets_no_buttons_to_act(page, viewer):
    login(page, viewer.username)
    expect(page.get_by_role("link", name="+ New Session")).to_have_count(0)
    page.get_by_role("link", name="Scrapers").click()
    expect(page.locator('[data-market="SOLUSD"]')).to_be_visible()
    expect(page.get_by_role("button", name="Start Scraping")).to_have_count(0)
    page.get_by_role("link", name="History").click()
    expect(page.get_by_text("Showing 0-0 of 0")).to_be_visible()
