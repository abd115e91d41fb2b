"""GET /api/sessions: the list envelope, filters, sorting and paging."""

import time
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import Session


def ids(response) -> list[str]:
    return [s["id"] for s in response.json()["sessions"]]


def test_it_lists_sessions_newest_first_in_the_list_envelope(operator_api, make_session, operator):
    older = make_session(name="Older", user=operator)
    newer = make_session(name="Newer", notes="second")
    before = int(time.time())

    response = operator_api.get("/api/sessions")

    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"success", "sessions", "total", "limit", "offset", "next_cursor"}
    assert body["success"] is True
    assert (body["total"], body["limit"], body["offset"]) == (2, 50, 0)
    assert [s["id"] for s in body["sessions"]] == [newer.id, older.id]
    first = body["sessions"][1]
    assert first["name"] == "Older"
    assert first["type"] == "test"
    assert first["market"] == "XBTUSD"
    assert first["strategy"] == "TestBot"
    assert first["status"] == "created"
    assert first["created_by"] == "olga"
    assert isinstance(first["created_at"], int) and abs(first["created_at"] - before) <= 5
    assert first["started_at"] is None and first["stopped_at"] is None
    assert first["trade_count"] == 0 and first["total_pnl"] == 0.0 and first["win_rate"] == 0.0
    assert first["strategy_params"] == {"threshold": 0.5, "position_size": 1}


def test_it_counts_150_sessions_and_pages_without_overlap(operator_api, make_session):
    made = {make_session(name=f"S{i:03}").id for i in range(150)}

    pages = [operator_api.get(f"/api/sessions?limit=50&offset={offset}") for offset in (0, 50, 100, 150)]

    assert [p.json()["total"] for p in pages] == [150] * 4
    assert [len(p.json()["sessions"]) for p in pages] == [50, 50, 50, 0]
    assert [p.json()["offset"] for p in pages] == [0, 50, 100, 150]
    seen = [sid for p in pages for sid in ids(p)]
    assert len(seen) == len(set(seen)) == 150
    assert set(seen) == made


def test_it_pages_a_sorted_list_in_order(operator_api, make_session):
    for i in range(7):
        make_session(name=f"N{i}")

    first = operator_api.get("/api/sessions?sort=name:asc&limit=3")
    second = operator_api.get("/api/sessions?sort=name:asc&limit=3&offset=3")

    names = [s["name"] for s in first.json()["sessions"] + second.json()["sessions"]]
    assert names == ["N0", "N1", "N2", "N3", "N4", "N5"]


def test_it_clamps_limit_500_to_200(operator_api, make_session):
    for i in range(201):
        make_session(name=f"S{i}")

    body = operator_api.get("/api/sessions?limit=500").json()

    assert body["limit"] == 200
    assert len(body["sessions"]) == 200
    assert body["total"] == 201


def test_it_sorts_by_a_whitelisted_field_both_ways(operator_api, make_session):
    for name in ("beta", "alpha", "gamma"):
        make_session(name=name)

    up = operator_api.get("/api/sessions?sort=name:asc").json()["sessions"]
    down = operator_api.get("/api/sessions?sort=name:desc").json()["sessions"]

    assert [s["name"] for s in up] == ["alpha", "beta", "gamma"]
    assert [s["name"] for s in down] == ["gamma", "beta", "alpha"]


def test_it_refuses_a_sort_outside_the_whitelist(operator_api, make_session, assert_refused):
    make_session()
    for sort in ("password:asc", "name:sideways", "created_by__password:asc", "name;drop"):
        body = assert_refused(operator_api.get(f"/api/sessions?sort={sort}"), 400, "sort")
        assert body["error"].startswith("sort")


def test_it_refuses_a_limit_that_is_not_a_number(operator_api, assert_refused):
    assert_refused(operator_api.get("/api/sessions?limit=lots"), 400, "limit")
    assert_refused(operator_api.get("/api/sessions?offset=-5"), 400, "offset")


def test_it_filters_by_a_comma_list_of_statuses(operator_api, make_session, session_limits):
    make_session(name="waiting")
    running = make_session(name="running", start=True)
    stopped = make_session(name="stopped", stop=True)

    both = operator_api.get("/api/sessions?status=running,stopped")
    one = operator_api.get("/api/sessions?status=created")

    assert sorted(ids(both)) == sorted([running.id, stopped.id])
    assert both.json()["total"] == 2
    assert [s["name"] for s in one.json()["sessions"]] == ["waiting"]


def test_it_refuses_an_unknown_status(operator_api, assert_refused):
    body = assert_refused(operator_api.get("/api/sessions?status=running,sleeping"), 400, "status")
    assert "sleeping" in body["errors"]["status"][0]


def test_it_filters_by_a_comma_list_of_types(operator_api, make_session):
    test = make_session(type="test")
    backtest = make_session(type="backtest")
    make_session(type="scraper", strategy="MarketScraper")

    response = operator_api.get("/api/sessions?type=test,backtest")

    assert sorted(ids(response)) == sorted([test.id, backtest.id])
    assert response.json()["total"] == 2


def test_it_filters_by_market_and_strategy(operator_api, make_session):
    xbt = make_session(market="XBTUSD")
    eth = make_session(market="ETHUSD")
    sma = make_session(market="ETHUSD", strategy="SmaCross")

    assert ids(operator_api.get("/api/sessions?market=XBTUSD")) == [xbt.id]
    assert sorted(ids(operator_api.get("/api/sessions?market=ETHUSD"))) == sorted([eth.id, sma.id])
    assert ids(operator_api.get("/api/sessions?strategy=SmaCross")) == [sma.id]
    assert ids(operator_api.get("/api/sessions?market=ETHUSD&strategy=TestBot")) == [eth.id]


# Committed rows: InnoDB's full-text index sees a row once its transaction commits.
@pytest.mark.django_db(transaction=True)
def test_it_searches_names_and_notes_with_q(operator_api, make_session):
    by_name = make_session(name="Momentum hunt")
    by_notes = make_session(name="Plain", notes="trying MOMENTUM params")
    make_session(name="Other", notes="nothing to see")

    response = operator_api.get("/api/sessions?q=momentum")

    assert sorted(ids(response)) == sorted([by_name.id, by_notes.id])


def test_it_filters_by_creation_time(operator_api, make_session):
    old = make_session(name="old")
    new = make_session(name="new")
    # Sessions are always created "now"; back-date one to have a last week to filter on.
    Session.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=10))
    cut = int(time.time()) - 5 * 86_400

    after = operator_api.get(f"/api/sessions?created_after={cut}")
    before = operator_api.get(f"/api/sessions?created_before={cut}")
    iso = operator_api.get(
        "/api/sessions?created_before=" + (timezone.now() - timedelta(days=5)).date().isoformat()
    )

    assert ids(after) == [new.id]
    assert ids(before) == [old.id]
    assert ids(iso) == [old.id]


def test_it_refuses_a_malformed_creation_time(operator_api, assert_refused):
    assert_refused(operator_api.get("/api/sessions?created_after=yesterday"), 400, "created_after")


def test_it_shows_an_empty_page_past_the_end(operator_api, make_session):
    make_session()

    body = operator_api.get("/api/sessions?offset=10").json()

    assert (body["sessions"], body["total"], body["offset"]) == ([], 1, 10)
