"""Throttles on the API: wrong tokens past the limit from one address get 429 with Retry-After, in
the envelope; valid tokens and other addresses go on; each user has a (generous) request rate.

The counters live in the `throttle` cache, which a test run shares (and on Redis, several test
runs): each test uses an address and a user of its own, so it meets no one else's counts."""

from __future__ import annotations

import random
import secrets

import pytest
from django.contrib.auth.models import User
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

WRONG_TOKENS_MESSAGE = "Too many requests with a wrong token from this address. Try again in"


def an_address() -> str:
    return f"2001:db8::{secrets.token_hex(2)}:{secrets.token_hex(2)}"


def client_from(address: str, token: str | None = None) -> APIClient:
    client = APIClient(REMOTE_ADDR=address)
    if token is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def a_wrong_token() -> str:
    return secrets.token_hex(20)


@pytest.fixture
def failure_limit(settings):
    # A window of an hour: the test's requests never straddle two windows.
    settings.API_TOKEN_FAILURE_LIMIT = 3
    settings.API_TOKEN_FAILURE_WINDOW = 3600
    return 3


@pytest.fixture
def user_token(db):
    """A user of a pk no other test has (the rate counter is per user and window) and its token."""
    user = User.objects.create_user(f"rate-{secrets.token_hex(4)}", pk=random.randrange(10**8, 10**9))
    return Token.objects.create(user=user).key


def test_wrong_tokens_past_the_limit_get_429_with_retry_after(db, failure_limit):
    address = an_address()
    client = client_from(address, a_wrong_token())

    refused = [client.get("/api/sessions") for _ in range(failure_limit)]
    throttled = client.get("/api/sessions")

    assert [r.status_code for r in refused] == [401] * failure_limit
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/json"
    body = throttled.json()
    assert body["success"] is False and body["errors"] == {}
    assert body["error"].startswith(WRONG_TOKENS_MESSAGE)
    assert 0 < int(throttled["Retry-After"]) <= 3600
    # Any wrong token, not only the same one.
    assert client_from(address, a_wrong_token()).get("/api/strategies").status_code == 429


def test_other_addresses_and_valid_tokens_are_not_held_back(db, failure_limit, user_token):
    address = an_address()
    for _ in range(failure_limit + 1):
        client_from(address, a_wrong_token()).get("/api/sessions")

    assert client_from(an_address(), a_wrong_token()).get("/api/sessions").status_code == 401
    assert client_from(address, user_token).get("/api/sessions").status_code == 200


def test_requests_without_a_token_are_not_counted(db, failure_limit):
    address = an_address()
    for _ in range(failure_limit + 2):
        assert client_from(address).get("/api/sessions").status_code == 401

    assert client_from(address, a_wrong_token()).get("/api/sessions").status_code == 401


def test_the_same_holds_on_the_old_endpoints(db, failure_limit):
    client = client_from(an_address(), a_wrong_token())
    for _ in range(failure_limit):
        assert client.get("/session/test").status_code == 401

    assert client.get("/session/test").status_code == 429


def test_a_user_past_the_api_rate_gets_429_with_retry_after(settings, user_token):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"user": "3/hour"}}
    client = client_from(an_address(), user_token)

    allowed = [client.get("/api/strategies").status_code for _ in range(3)]
    throttled = client.get("/api/strategies")

    assert allowed == [200] * 3
    assert throttled.status_code == 429
    assert throttled.json()["success"] is False
    assert throttled.json()["error"].startswith("Request was throttled.")
    assert 0 < int(throttled["Retry-After"]) <= 3600


def test_the_default_rate_is_generous(settings):
    requests, period = settings.API_THROTTLE_RATE.split("/")
    per_second = int(requests) / {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]

    assert per_second >= 500  # 50 clients sharing one token at 250 requests/s stay well under it
