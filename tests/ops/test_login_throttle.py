"""django-axes on the dashboard's and the admin's logins: 5 wrong passwords lock that username at
that address for 15 minutes (a readable 429 page, logged); other pairs are not touched.

Each test logs in from an address of its own: the failures are rows in the test database,
rolled back after each test, and no other test shares the address."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.test import Client
from django.utils import timezone

PASSWORD = "pw-for-tests-1"  # the personas' (tests/conftest.py)


def an_address() -> str:
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


@pytest.fixture
def address() -> str:
    return an_address()


def log_in(client: Client, username: str, password: str, path: str = "/accounts/login/"):
    return client.post(path, {"username": username, "password": password, "next": "/"})


def logged_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_five_wrong_passwords_lock_the_username_out_at_that_address(operator, address, caplog):
    client = Client(REMOTE_ADDR=address)
    for _ in range(4):
        response = log_in(client, operator.username, "not-the-password")
        assert response.status_code == 200
        assert "didn't match" in response.content.decode()

    with caplog.at_level(logging.WARNING, logger="axes"):
        fifth = log_in(client, operator.username, "not-the-password")
    right = log_in(client, operator.username, PASSWORD)

    for response in (fifth, right):
        assert response.status_code == 429
        html = response.content.decode()
        assert "Log-in locked" in html and "Try again in 15 minutes" in html
        assert operator.username in html
        assert "dashboard.css" in html  # the dashboard's look, not a bare text answer
    assert not logged_in(client)
    assert "Locking out" in caplog.text and operator.username in caplog.text and address in caplog.text


def test_the_lock_holds_that_username_at_that_address_only(operator, viewer, address):
    client = Client(REMOTE_ADDR=address)
    for _ in range(5):
        log_in(client, operator.username, "not-the-password")
    assert log_in(client, operator.username, PASSWORD).status_code == 429

    elsewhere = Client(REMOTE_ADDR=an_address())
    assert log_in(elsewhere, operator.username, PASSWORD).status_code == 302
    assert logged_in(elsewhere)
    someone_else = Client(REMOTE_ADDR=address)
    assert log_in(someone_else, viewer.username, PASSWORD).status_code == 302
    assert logged_in(someone_else)


def test_the_lock_ends_after_15_minutes(operator, address):
    client = Client(REMOTE_ADDR=address)
    for _ in range(5):
        log_in(client, operator.username, "not-the-password")

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=14))
    assert log_in(client, operator.username, PASSWORD).status_code == 429

    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=15, seconds=5))
    assert log_in(client, operator.username, PASSWORD).status_code == 302
    assert logged_in(client)


def test_a_successful_login_starts_the_count_again(operator, address):
    client = Client(REMOTE_ADDR=address)
    for _ in range(2):
        for _ in range(4):
            assert log_in(client, operator.username, "not-the-password").status_code == 200
        assert log_in(client, operator.username, PASSWORD).status_code == 302
        client.post("/accounts/logout/")


def test_the_admin_login_is_locked_the_same_way(admin_user, address):
    client = Client(REMOTE_ADDR=address)
    for _ in range(4):
        assert log_in(client, admin_user.username, "not-the-password", "/admin/login/").status_code == 200

    assert log_in(client, admin_user.username, "not-the-password", "/admin/login/").status_code == 429
    response = log_in(client, admin_user.username, PASSWORD, "/admin/login/")

    assert response.status_code == 429
    assert "Log-in locked" in response.content.decode()
    assert client.get("/admin/").status_code == 302  # to the admin's login: not logged in
