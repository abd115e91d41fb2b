"""Sessions in the admin: runs and events inline, name/notes editable, running ones kept."""

import pytest

from sessions_app import services
from sessions_app.models import Session

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


@pytest.fixture
def session(admin_user):
    return services.session_create(
        user=admin_user, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot", "name": "Admin me"}
    )


def test_the_change_page_shows_runs_and_events_inline(admin_client, session):
    response = admin_client.get(f"/admin/sessions_app/session/{session.pk}/change/")

    assert response.status_code == 200
    html = response.content.decode()
    assert session.runs.get().config_hash in html
    assert "Session events" in html and "created" in html


def test_only_name_and_notes_change_here(admin_client, session):
    response = admin_client.post(
        f"/admin/sessions_app/session/{session.pk}/change/",
        {
            "name": "Renamed",
            "notes": "from the admin",
            "status": "completed",
            "runs-TOTAL_FORMS": "0",
            "runs-INITIAL_FORMS": "0",
            "events-TOTAL_FORMS": "0",
            "events-INITIAL_FORMS": "0",
        },
    )

    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.name, session.notes, session.status) == ("Renamed", "from the admin", "created")


def test_a_running_session_cannot_be_deleted_here(admin_client, session, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        services.session_start(session=session)

    response = admin_client.post(f"/admin/sessions_app/session/{session.pk}/delete/", {"post": "yes"})

    assert response.status_code == 403
    assert Session.objects.filter(pk=session.pk).exists()


def test_a_finished_session_is_deleted_through_the_service(admin_client, session):
    response = admin_client.post(f"/admin/sessions_app/session/{session.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Session.objects.filter(pk=session.pk).exists()
