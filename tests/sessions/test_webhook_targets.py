"""A session's notify_url is checked when saved: resolved, and refused when it is or
resolves to an address inside the network, unless WEBHOOK_ALLOW_PRIVATE. (At delivery:
tests/worker/test_webhooks.py.)"""

from __future__ import annotations

import pytest

from sessions_app.models import Session
from tests.conftest import backtest_range
from tests.fake_dns import dns_answers

PUBLIC = "93.184.215.14"

# (URL, what the refusal calls its address)
INSIDE = [
    ("http://127.0.0.1:6379", "loopback"),  # Redis
    ("http://127.0.0.1:3306", "loopback"),  # MariaDB
    ("http://127.0.0.1:8000/admin/", "loopback"),  # this very server
    ("http://localhost/hook", "loopback"),
    ("http://[::1]/hook", "loopback"),
    ("http://[::ffff:127.0.0.1]/hook", "loopback"),  # IPv4-mapped IPv6
    ("http://[2002:7f00:1::]/hook", "loopback"),  # 6to4 of 127.0.0.1
    ("http://169.254.169.254/latest/meta-data/", "link-local"),  # cloud metadata
    ("http://[fe80::1]/hook", "link-local"),
    ("http://10.0.0.1/hook", "private"),
    ("http://172.16.0.1/hook", "private"),
    ("http://192.168.1.1/hook", "private"),
    ("http://[fd00::1]/hook", "private"),
    ("http://[::ffff:10.0.0.1]/hook", "private"),
    ("http://[64:ff9b::a00:1]/hook", "private"),  # NAT64 of 10.0.0.1
    ("http://100.64.0.1/hook", "non-public"),  # carrier-grade NAT
    ("http://0.0.0.0/hook", "unspecified"),
    ("http://[::]/hook", "unspecified"),
    ("http://224.0.0.1/hook", "multicast"),
    ("http://[ff02::1]/hook", "multicast"),
    ("http://240.0.0.1/hook", "reserved"),
]


def _create(api, **fields):
    return api.post(
        "/api/sessions",
        {"type": "backtest", "market": "XBTUSD", "strategy": "TestBot", **backtest_range(days=1), **fields},
        format="json",
    )


def _refusal(body: dict) -> str:
    [message] = body["errors"]["notify_url"]
    return message


@pytest.mark.parametrize(("url", "kind"), INSIDE)
def test_create_refuses_a_notify_url_inside_the_network(url, kind, operator_api, assert_refused, row_counts):
    before = row_counts()

    body = assert_refused(_create(operator_api, notify_url=url), 400, "notify_url")

    assert f" {kind} address" in _refusal(body)
    assert "WEBHOOK_ALLOW_PRIVATE" in _refusal(body)
    assert row_counts() == before


@pytest.mark.parametrize(("url", "kind"), INSIDE)
def test_patch_refuses_a_notify_url_inside_the_network(url, kind, operator_api, make_session, assert_refused):
    session = make_session(type="backtest", notify_url="https://hooks.example.com/mine")

    response = operator_api.patch(f"/api/sessions/{session.pk}", {"notify_url": url}, format="json")

    assert f" {kind} address" in _refusal(assert_refused(response, 400, "notify_url"))
    session.refresh_from_db()
    assert session.notify_url == "https://hooks.example.com/mine"


def test_a_name_that_resolves_inside_is_refused(operator_api, assert_refused, monkeypatch):
    dns_answers(monkeypatch, {"hooks.corp.example": ["10.1.2.3"]})

    body = assert_refused(_create(operator_api, notify_url="https://hooks.corp.example/x"), 400, "notify_url")

    assert _refusal(body).startswith("hooks.corp.example resolves to a private address")


def test_a_name_with_one_public_and_one_inside_address_is_refused(operator_api, assert_refused, monkeypatch):
    # Every address counts: a client trying them in turn would reach the second one.
    dns_answers(monkeypatch, {"hooks.mixed.example": [PUBLIC, "127.0.0.1"]})

    body = assert_refused(
        _create(operator_api, notify_url="https://hooks.mixed.example/x"), 400, "notify_url"
    )

    assert "loopback" in _refusal(body)


def test_a_name_that_resolves_to_public_addresses_is_accepted(operator_api, monkeypatch):
    looked_up = dns_answers(
        monkeypatch, {"hooks.example.com": [PUBLIC, "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]}
    )

    response = _create(operator_api, notify_url="https://hooks.example.com/trading?token=abc")

    assert response.status_code == 201, response.content
    assert response.json()["session"]["notify_url"] == "https://hooks.example.com/trading?token=abc"
    assert looked_up == ["hooks.example.com"]


def test_a_host_that_does_not_resolve_is_saved_and_left_to_the_delivery_check(operator_api):
    # .invalid never resolves (RFC 6761); the delivery resolves and checks the host again.
    response = _create(operator_api, notify_url="https://receiver.invalid/hook")

    assert response.status_code == 201, response.content
    assert (
        Session.objects.get(pk=response.json()["session"]["id"]).notify_url == "https://receiver.invalid/hook"
    )


def test_with_webhook_allow_private_a_receiver_inside_the_network_is_accepted(operator_api, settings):
    settings.WEBHOOK_ALLOW_PRIVATE = True

    for url in ("http://127.0.0.1:8000/hook", "http://10.0.0.1/hook", "http://[::1]/hook"):
        response = _create(operator_api, notify_url=url)
        assert response.status_code == 201, (url, response.content)


def test_clone_refuses_a_copied_notify_url_that_is_inside_the_network(
    operator_api, assert_refused, settings, row_counts
):
    settings.WEBHOOK_ALLOW_PRIVATE = True
    source = _create(operator_api, notify_url="http://10.0.0.1/hook").json()["session"]
    settings.WEBHOOK_ALLOW_PRIVATE = False
    before = row_counts()

    refused = operator_api.post(f"/api/sessions/{source['id']}/clone", {}, format="json")

    assert "private" in _refusal(assert_refused(refused, 400, "notify_url"))
    assert row_counts() == before
    cleared = operator_api.post(f"/api/sessions/{source['id']}/clone", {"notify_url": None}, format="json")
    assert cleared.status_code == 201, cleared.content
    assert cleared.json()["session"]["notify_url"] is None
