"""POST /api/sessions/<id>/clone: the source's config, cloned_from set, merged param overrides."""

import time

from sessions_app.models import Session


def past_range():
    end = int(time.time()) - 86_400
    return {"range_start": end - 3 * 86_400, "range_end": end}


def test_it_clones_with_merged_param_overrides(operator_api, make_session):
    source = make_session(
        name="Test #1", notes="source notes", strategy_params={"threshold": 0.3, "position_size": 50}
    )

    response = operator_api.post(
        f"/api/sessions/{source.id}/clone",
        {"name": "Clone with a lower threshold", "strategy_params": {"threshold": 0.2}},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    assert body["success"] is True
    clone = body["session"]
    assert clone["id"] != source.id
    assert clone["cloned_from"] == source.id
    assert clone["status"] == "created"
    assert clone["name"] == "Clone with a lower threshold"
    assert clone["strategy_params"] == {"threshold": 0.2, "position_size": 50}
    assert (clone["type"], clone["market"], clone["strategy"]) == ("test", "XBTUSD", "TestBot")
    assert clone["notes"] == "source notes"
    assert clone["created_by"] == "olga"
    row = Session.objects.get(pk=clone["id"])
    assert row.cloned_from_id == source.id
    assert row.runs.get().params == {"threshold": 0.2, "position_size": 50}
    source.refresh_from_db()
    assert source.strategy_params == {"threshold": 0.3, "position_size": 50}


def test_it_names_a_clone_after_its_source(operator_api, make_session):
    source = make_session(name="BTC Test #1")

    clone = operator_api.post(f"/api/sessions/{source.id}/clone").json()["session"]

    assert clone["name"] == "Clone of BTC Test #1"
    assert clone["strategy_params"] == source.strategy_params


def test_it_clones_a_finished_backtest_with_range_and_sweep(operator_api, make_session):
    window = past_range()
    source = make_session(
        type="backtest",
        **window,
        fee_bps=3,
        timeframe="15m",
        sweep={"threshold": [0.3, 0.5]},
        stop=True,
    )

    clone = operator_api.post(f"/api/sessions/{source.id}/clone", {}, format="json").json()["session"]

    assert clone["status"] == "created" and clone["started_at"] is None
    assert (clone["range_start"], clone["range_end"]) == (window["range_start"], window["range_end"])
    assert (clone["fee_bps"], clone["timeframe"]) == (3.0, "15m")
    assert clone["sweep"] == {"threshold": [0.3, 0.5]}
    assert Session.objects.get(pk=clone["id"]).runs.count() == 2


def test_it_refuses_a_bad_override_and_writes_nothing(operator_api, make_session, assert_refused, row_counts):
    source = make_session()
    before = row_counts()

    response = operator_api.post(
        f"/api/sessions/{source.id}/clone", {"strategy_params": {"threshold": 1.5}}, format="json"
    )

    assert_refused(response, 400, "strategy_params.threshold")
    assert row_counts() == before


def test_it_refuses_overrides_that_are_not_an_object(operator_api, make_session, assert_refused, row_counts):
    source = make_session()
    before = row_counts()

    assert_refused(
        operator_api.post(f"/api/sessions/{source.id}/clone", {"strategy_params": [1]}, format="json"),
        400,
        "strategy_params",
    )
    assert row_counts() == before


def test_it_refuses_a_field_a_clone_cannot_override(operator_api, make_session, assert_refused, row_counts):
    source = make_session()
    before = row_counts()

    body = assert_refused(
        operator_api.post(f"/api/sessions/{source.id}/clone", {"market": "ETHUSD"}, format="json"),
        400,
        "market",
    )

    assert list(body["errors"]) == ["market"]
    assert row_counts() == before


def test_it_answers_malformed_json_with_400(operator_api, make_session, assert_refused, row_counts):
    source = make_session()
    before = row_counts()

    assert_refused(
        operator_api.post(f"/api/sessions/{source.id}/clone", "{", content_type="application/json"),
        400,
        "body",
    )
    assert row_counts() == before
