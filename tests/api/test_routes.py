"""Paths with and without a trailing slash, for every method; unknown API paths are JSON 404s."""

import pytest

from sessions_app.models import Session


@pytest.mark.parametrize(
    "path", ["/api/sessions/", "/api/strategies/", "/api/strategies/SmaCross/", "/api/markets/"]
)
def test_it_accepts_a_trailing_slash_on_reads(operator_api, path):
    response = operator_api.get(path)

    assert response.status_code == 200
    assert response.json()["success"] is True


def test_it_accepts_a_trailing_slash_on_every_session_method(operator_api, make_session):
    created = operator_api.post(
        "/api/sessions/", {"type": "test", "market": "ETHUSD", "strategy": "TestBot"}, format="json"
    )
    assert created.status_code == 201
    sid = created.json()["session"]["id"]
    run_hash = Session.objects.get(pk=sid).runs.get().config_hash

    assert operator_api.get(f"/api/sessions/{sid}/").json()["session"]["id"] == sid
    assert (
        operator_api.patch(f"/api/sessions/{sid}/", {"name": "Slash"}, format="json").json()["session"][
            "name"
        ]
        == "Slash"
    )
    for part in (
        "trades",
        "metrics",
        "equity",
        "logs",
        "events",
        "runs",
        f"runs/{run_hash}",
        f"runs/{run_hash}/trades",
    ):
        response = operator_api.get(f"/api/sessions/{sid}/{part}/")
        assert response.status_code == 200, part
    assert operator_api.post(f"/api/sessions/{sid}/start/").json()["session"]["status"] == "running"
    assert operator_api.post(f"/api/sessions/{sid}/stop/").json()["session"]["status"] == "stopped"
    clone = operator_api.post(f"/api/sessions/{sid}/clone/", {"name": "Slash clone"}, format="json")
    assert clone.status_code == 201 and clone.json()["session"]["cloned_from"] == sid
    assert operator_api.delete(f"/api/sessions/{sid}/").json() == {"success": True, "deleted": sid}
    assert not Session.objects.filter(pk=sid).exists()


def test_it_answers_unknown_api_paths_with_a_json_404(operator_api, assert_refused):
    assert_refused(operator_api.get("/api/nothing-here"), 404)


def test_it_answers_a_wrong_method_with_405_in_the_envelope(operator_api, make_session, assert_refused):
    session = make_session()

    assert_refused(operator_api.get(f"/api/sessions/{session.id}/start"), 405)
    assert_refused(operator_api.put(f"/api/sessions/{session.id}", {"name": "x"}, format="json"), 405)
    assert Session.objects.get(pk=session.pk).status == "created"
