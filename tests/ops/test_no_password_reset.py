"""No password-reset pages: there is no mail backend to send their link. An administrator sets a
forgotten password again (the admin, or `manage.py changepassword`)."""

import pytest
from django.test import Client

RESET_PAGES = [
    "/accounts/password_reset/",
    "/accounts/password_reset/done/",
    "/accounts/reset/MQ/set-password/",
    "/accounts/reset/done/",
]


@pytest.mark.parametrize("path", RESET_PAGES)
def test_the_reset_pages_are_404_for_anyone(operator, path):
    logged_in = Client()
    logged_in.force_login(operator)

    assert Client().get(path).status_code == 404
    assert logged_in.get(path).status_code == 404


def test_neither_login_page_links_to_a_reset(db):
    client = Client()
    for path in ("/accounts/login/", "/admin/login/"):
        html = client.get(path).content.decode()
        assert "password_reset" not in html and "Forgotten your password" not in html, path


def test_the_other_account_pages_still_answer(operator):
    client = Client()
    assert client.get("/accounts/login/").status_code == 200
    client.force_login(operator)
    assert client.get("/accounts/password_change/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
