"""PATCH /api/sessions/<id>: name and notes always, the configuration only while created."""

from sessions_app.models import Run, Session


def test_it_renames_and_annotates_a_created_session(operator_api, make_session):
    session = make_session(name="Before")

    response = operator_api.patch(
        f"/api/sessions/{session.id}", {"name": "After", "notes": "why"}, format="json"
    )

    assert response.status_code == 200
    assert response.json()["success"] is True
    assert (response.json()["session"]["name"], response.json()["session"]["notes"]) == ("After", "why")
    session.refresh_from_db()
    assert (session.name, session.notes) == ("After", "why")


def test_it_renames_a_running_and_a_stopped_session(operator_api, make_session):
    running = make_session(start=True)
    stopped = make_session(stop=True)

    for session in (running, stopped):
        response = operator_api.patch(
            f"/api/sessions/{session.id}", {"name": "Renamed", "notes": "kept"}, format="json"
        )
        assert response.status_code == 200, response.json()
        session.refresh_from_db()
        assert (session.name, session.notes) == ("Renamed", "kept")


def test_it_changes_the_config_of_a_created_session_and_its_run(operator_api, make_session):
    session = make_session(strategy_params={"threshold": 0.3, "position_size": 50})
    old_hash = session.runs.get().config_hash

    response = operator_api.patch(
        f"/api/sessions/{session.id}",
        {"market": "ETHUSD", "strategy_params": {"threshold": 0.4, "position_size": 50}},
        format="json",
    )

    assert response.status_code == 200, response.json()
    data = response.json()["session"]
    assert data["market"] == "ETHUSD"
    assert data["strategy_params"] == {"threshold": 0.4, "position_size": 50}
    run = Run.objects.get(session_id=session.id)
    assert run.config_hash != old_hash
    assert run.params == {"threshold": 0.4, "position_size": 50}


def test_it_refuses_a_config_change_once_started(operator_api, make_session, assert_refused):
    session = make_session(start=True)

    response = operator_api.patch(
        f"/api/sessions/{session.id}", {"market": "ETHUSD", "name": "X"}, format="json"
    )

    assert_refused(response, 409, "market")
    session.refresh_from_db()
    assert (session.market, session.name) == ("XBTUSD", "BTC Test #1")


def test_it_refuses_a_config_change_of_a_stopped_session(operator_api, make_session, assert_refused):
    session = make_session(stop=True)

    response = operator_api.patch(
        f"/api/sessions/{session.id}", {"strategy_params": {"threshold": 0.1}}, format="json"
    )

    assert_refused(response, 409, "strategy_params")
    assert Session.objects.get(pk=session.pk).strategy_params == {"threshold": 0.5, "position_size": 1}


def test_it_refuses_bad_params_and_keeps_the_session(operator_api, make_session, assert_refused):
    session = make_session()
    run_hash = session.runs.get().config_hash

    response = operator_api.patch(
        f"/api/sessions/{session.id}", {"strategy_params": {"threshold": 1.5}}, format="json"
    )

    assert_refused(response, 400, "strategy_params.threshold")
    session.refresh_from_db()
    assert session.strategy_params == {"threshold": 0.5, "position_size": 1}
    assert list(session.runs.values_list("config_hash", flat=True)) == [run_hash]


def test_it_refuses_an_unknown_field_naming_it(operator_api, make_session, assert_refused):
    session = make_session(name="Same")

    body = assert_refused(
        operator_api.patch(f"/api/sessions/{session.id}", {"status": "completed"}, format="json"),
        400,
        "status",
    )

    assert list(body["errors"]) == ["status"]
    session.refresh_from_db()
    assert (session.status, session.name) == ("created", "Same")


def test_it_regenerates_a_cleared_name(operator_api, make_session):
    session = make_session(name="Custom")

    data = operator_api.patch(f"/api/sessions/{session.id}", {"name": ""}, format="json").json()["session"]

    assert data["name"] == "BTC Test #2"  # the next number for BTC tests, this one counted


def test_it_answers_malformed_json_with_400(operator_api, make_session, assert_refused):
    session = make_session(name="Same")

    assert_refused(
        operator_api.patch(f"/api/sessions/{session.id}", "{name", content_type="application/json"),
        400,
        "body",
    )
    session.refresh_from_db()
    assert session.name == "Same"
