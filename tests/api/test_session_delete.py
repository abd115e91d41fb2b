"""DELETE /api/sessions/<id>: refused (409) while running; everything of the session goes."""

from sessions_app.models import Run, Session, SessionEvent


def test_it_deletes_a_created_session_with_its_runs_and_events(operator_api, make_session):
    session = make_session()
    other = make_session()

    response = operator_api.delete(f"/api/sessions/{session.id}")

    assert response.status_code == 200
    assert response.json() == {"success": True, "deleted": session.id}
    assert list(Session.objects.values_list("id", flat=True)) == [other.id]
    assert not Run.objects.filter(session_id=session.id).exists()
    assert not SessionEvent.objects.filter(session_id=session.id).exists()
    assert Run.objects.filter(session_id=other.id).count() == 1


def test_it_deletes_a_stopped_session(operator_api, make_session):
    session = make_session(stop=True)

    assert operator_api.delete(f"/api/sessions/{session.id}").status_code == 200
    assert not Session.objects.filter(pk=session.pk).exists()


def test_it_refuses_a_running_session(operator_api, make_session, assert_refused, row_counts):
    session = make_session(start=True)
    before = row_counts()

    body = assert_refused(operator_api.delete(f"/api/sessions/{session.id}"), 409)

    assert "running" in body["error"]
    assert Session.objects.get(pk=session.pk).status == "running"
    assert row_counts() == before


def test_it_keeps_clones_when_their_source_goes(operator_api, make_session):
    source = make_session()
    clone = operator_api.post(f"/api/sessions/{source.id}/clone", {}, format="json").json()["session"]

    assert operator_api.delete(f"/api/sessions/{source.id}").status_code == 200

    assert Session.objects.get(pk=clone["id"]).cloned_from_id is None  # ON DELETE SET NULL


def test_it_answers_404_for_an_unknown_session(operator_api, assert_refused):
    assert_refused(operator_api.delete("/api/sessions/00000000-0000-0000-0000-000000000000"), 404)
