"""Who may call what: anonymous 401 everywhere, viewers read (200) but never act (403)."""

import pytest

from sessions_app.models import Session

ZERO = "00000000-0000-0000-0000-000000000000"

READS = [
    "/api/sessions",
    "/api/sessions/{id}",
    "/api/sessions/{id}/trades",
    "/api/sessions/{id}/metrics",
    "/api/sessions/{id}/equity",
    "/api/sessions/{id}/logs",
    "/api/sessions/{id}/events",
    "/api/sessions/{id}/runs",
    "/api/sessions/{id}/runs/{hash}",
    "/api/sessions/{id}/runs/{hash}/trades",
    "/api/strategies",
    "/api/strategies/TestBot",
    "/api/markets",
]
WRITES = [
    ("post", "/api/sessions", {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}),
    ("patch", "/api/sessions/{id}", {"name": "Hijacked"}),
    ("delete", "/api/sessions/{id}", None),
    ("post", "/api/sessions/{id}/start", None),
    ("post", "/api/sessions/{id}/stop", None),
    ("post", "/api/sessions/{id}/clone", {}),
]


@pytest.fixture
def target(make_session):
    session = make_session(name="Target")
    return {"id": session.id, "hash": session.runs.get().config_hash}


def call(client, method, path, body=None):
    return (
        getattr(client, method)(path, body, format="json")
        if body is not None
        else getattr(client, method)(path)
    )


@pytest.mark.parametrize("path", READS)
def test_anonymous_reads_get_401(anon_api, target, assert_refused, path):
    response = anon_api.get(path.format(**target))

    assert_refused(response, 401)
    assert response.headers["WWW-Authenticate"].startswith("Token")


@pytest.mark.parametrize("method,path,body", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_anonymous_writes_get_401_and_change_nothing(
    anon_api, target, assert_refused, row_counts, method, path, body
):
    before = row_counts()

    assert_refused(call(anon_api, method, path.format(**target), body), 401)

    assert row_counts() == before
    assert Session.objects.get(pk=target["id"]).status == "created"


def test_an_unknown_session_is_401_not_404_for_anonymous(anon_api, assert_refused):
    assert_refused(anon_api.get(f"/api/sessions/{ZERO}"), 401)


def test_a_bad_token_is_401(anon_api, assert_refused):
    anon_api.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")

    assert_refused(anon_api.get("/api/sessions"), 401)


@pytest.mark.parametrize("path", READS)
def test_viewers_read_everything(viewer_api, target, path):
    response = viewer_api.get(path.format(**target))

    assert response.status_code == 200, response.content[:300]
    assert response.json()["success"] is True


@pytest.mark.parametrize("method,path,body", WRITES, ids=[f"{m} {p}" for m, p, _ in WRITES])
def test_viewers_cannot_act(viewer_api, target, assert_refused, row_counts, method, path, body):
    before = row_counts()

    response = assert_refused(call(viewer_api, method, path.format(**target), body), 403)

    assert "operate_session" in response["error"]
    assert row_counts() == before
    row = Session.objects.get(pk=target["id"])
    assert (row.status, row.name) == ("created", "Target")


def test_a_viewer_cannot_stop_a_running_session(viewer_api, make_session, assert_refused):
    session = make_session(start=True)

    assert_refused(viewer_api.post(f"/api/sessions/{session.id}/stop"), 403)
    assert Session.objects.get(pk=session.pk).status == "running"


def test_an_operator_acts_with_a_token(operator_api, target):
    response = operator_api.patch(f"/api/sessions/{target['id']}", {"name": "Mine"}, format="json")

    assert response.status_code == 200
    assert Session.objects.get(pk=target["id"]).name == "Mine"


def test_a_browser_session_works_too(client, operator, target):
    client.force_login(operator)

    listing = client.get("/api/sessions")
    renamed = client.patch(
        f"/api/sessions/{target['id']}", '{"name": "From the browser"}', content_type="application/json"
    )

    assert listing.status_code == 200 and listing.json()["total"] == 1
    assert renamed.status_code == 200 and renamed.json()["session"]["name"] == "From the browser"


def test_a_browser_session_needs_the_csrf_token_to_act(operator, target):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)

    response = client.patch(
        f"/api/sessions/{target['id']}", '{"name": "Forged"}', content_type="application/json"
    )

    assert response.status_code == 403
    assert Session.objects.get(pk=target["id"]).name == "Target"
