"""Start, Stop, × (delete) and Clone from the rows: services behind them, HX-Trigger after,
403 for viewers, CSRF on every post."""

import json

import pytest
from django.test import Client

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX


def events(response) -> dict:
    return json.loads(response["HX-Trigger"])


def test_start_runs_a_created_session_and_refreshes_the_lists(
    operator_client, new_session, django_capture_on_commit_callbacks
):
    session = new_session()

    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(f"/sessions/{session.pk}/start/", **HTMX)

    assert response.status_code == 204
    assert events(response)["sessionsChanged"] is True
    assert events(response)["notify"]["level"] == "success"
    session.refresh_from_db()
    assert session.status == "running"


def test_start_beyond_the_limit_is_refused_with_the_message(
    operator_client, new_session, settings, django_capture_on_commit_callbacks
):
    settings.SESSION_LIMITS = {"test": 1, "backtest": 1, "scraper": 5}
    new_session(status="running")
    waiting = new_session()

    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(f"/sessions/{waiting.pk}/start/", **HTMX)

    assert response.status_code == 409
    assert events(response)["notify"]["level"] == "error"
    assert "limit" in events(response)["notify"]["message"]
    waiting.refresh_from_db()
    assert waiting.status == "created"


def test_stop_stops_an_unclaimed_running_session(operator_client, new_session):
    session = new_session(status="running")

    response = operator_client.post(f"/sessions/{session.pk}/stop/", **HTMX)

    assert response.status_code == 204
    assert "sessionsChanged" in events(response)
    session.refresh_from_db()
    assert session.status == "stopped"


def test_delete_removes_a_created_session(operator_client, new_session):
    session = new_session()

    response = operator_client.post(f"/sessions/{session.pk}/delete/", **HTMX)

    assert response.status_code == 204
    assert not Session.objects.filter(pk=session.pk).exists()


def test_delete_of_a_running_session_is_a_conflict(operator_client, new_session):
    session = new_session(status="running")

    response = operator_client.post(f"/sessions/{session.pk}/delete/", **HTMX)

    assert response.status_code == 409
    assert Session.objects.filter(pk=session.pk).exists()


def test_clone_opens_the_clone_in_the_edit_modal(operator_client, new_session):
    source = new_session(status="stopped", name="Source")

    response = operator_client.post(f"/sessions/{source.pk}/clone/", **HTMX)

    assert response.status_code == 200
    clone = Session.objects.get(cloned_from=source)
    html = response.content.decode()
    assert "Edit Session" in html
    assert f"/sessions/{clone.pk}/edit/" in html
    assert "sessionsChanged" in events(response)


def test_a_plain_post_without_htmx_redirects_back(
    operator_client, new_session, django_capture_on_commit_callbacks
):
    session = new_session()

    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(f"/sessions/{session.pk}/start/", {"next": "/history/"})

    assert response.status_code == 302
    assert response["Location"] == "/history/"


@pytest.mark.parametrize("action", ["start", "stop", "delete", "clone"])
def test_a_viewer_gets_403_on_every_action(viewer_client, new_session, action):
    session = new_session(status="running" if action == "stop" else "created")
    before = Session.objects.count()

    response = viewer_client.post(f"/sessions/{session.pk}/{action}/", **HTMX)

    assert response.status_code == 403
    assert Session.objects.count() == before
    assert Session.objects.get(pk=session.pk).status == session.status


def test_a_viewer_gets_403_on_create_edit_and_start_scraping(viewer_client, new_session):
    session = new_session()

    assert viewer_client.get("/sessions/new/", **HTMX).status_code == 403
    assert (
        viewer_client.post(
            "/sessions/new/", {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}, **HTMX
        ).status_code
        == 403
    )
    assert viewer_client.post(f"/sessions/{session.pk}/edit/", {"name": "x"}, **HTMX).status_code == 403
    assert viewer_client.post("/scrapers/start/", {"market": "XBTUSD"}, **HTMX).status_code == 403
    assert Session.objects.count() == 1


def test_actions_are_posts_only(operator_client, new_session):
    session = new_session()

    assert operator_client.get(f"/sessions/{session.pk}/start/").status_code == 405
    assert operator_client.get(f"/sessions/{session.pk}/delete/").status_code == 405


def test_htmx_posts_need_the_csrf_header(dash_operator, new_session):
    session = new_session()
    client = Client(enforce_csrf_checks=True)
    client.force_login(dash_operator)
    page = client.get("/")
    token = page.cookies["csrftoken"].value

    refused = client.post(f"/sessions/{session.pk}/delete/", **HTMX)
    accepted = client.post(f"/sessions/{session.pk}/delete/", HTTP_X_CSRFTOKEN=token, **HTMX)

    assert refused.status_code == 403
    assert accepted.status_code == 204
