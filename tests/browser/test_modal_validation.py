"""A bad parameter in the Create New Session modal is refused next to its field."""

import pytest
from playwright.sync_api import expect

from sessions_app.models import Session
from tests.browser.helpers import open_new_session_modal

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_threshold_out_of_bounds_is_refused_next_to_threshold_and_nothing_is_created(
    operator_page, screenshot
):
    page = operator_page
    dialog = open_new_session_modal(page)
    expect(dialog.get_by_role("radio", name="Live Test")).to_be_checked()
    dialog.get_by_label("Threshold", exact=True).fill("1.5")
    dialog.get_by_role("button", name="Create", exact=True).click()

    threshold = dialog.locator(".field", has=page.get_by_label("Threshold", exact=True))
    error = threshold.locator(".field-error")
    expect(error).to_be_visible()
    expect(error).to_have_text("Must be at most 1 (got 1.5).")
    expect(dialog.get_by_label("Threshold", exact=True)).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Threshold", exact=True)).to_have_value("1.5")  # what was typed stays
    expect(dialog.locator(".field-error")).to_have_count(1)  # only Threshold is wrong
    expect(dialog).to_be_visible()
    screenshot(page, "modal-error")
    assert Session.objects.count() == 0

    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_role("heading", name="PENDING / CREATED (0)")).to_be_visible()
    assert Session.objects.count() == 0
