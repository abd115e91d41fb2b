"""The Create New Session modal: fields that fit the type and strategy, errors next to their
fields, create / create & start, and edit of a created session."""

import json
import re
from datetime import UTC, date, datetime, timedelta

import pytest

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX


def field_block(html: str, input_name: str) -> str:
    match = re.search(rf'<div class="field">\s*<label[^>]*for="id_{input_name}".*?</div>', html, re.S)
    assert match, f"no field {input_name}"
    return match.group(0)


def test_the_modal_offers_types_markets_strategies_and_params(operator_client, db):
    response = operator_client.get("/sessions/new/", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert "Create New Session" in html
    for label in (
        "Live Test",
        "Backtest",
        "Scraper",
        "Market",
        "Strategy",
        "Strategy Parameters",
        "Session Name (optional)",
        ">Cancel<",
        ">Create<",
        "Create &amp; Start",
    ):
        assert label in html
    assert "<html" not in html
    threshold = field_block(html, "param_threshold")
    assert ">Threshold<" in threshold
    assert 'value="0.5"' in threshold and 'min="0"' in threshold and 'max="1"' in threshold
    assert "Enter when the close sits" in threshold
    assert "Start Date" not in html  # backtests only
    assert "MarketScraper" not in html  # not a test strategy


def test_a_backtest_shows_the_date_range(operator_client, db):
    html = operator_client.get("/sessions/new/?type=backtest&strategy=TestBot", **HTMX).content.decode()

    assert "Start Date" in html and "End Date" in html
    assert "Inclusive" in html


def test_the_scraper_type_offers_the_scraper_and_all_markets(operator_client, db):
    html = operator_client.get("/sessions/new/?type=scraper", **HTMX).content.decode()

    assert 'value="MarketScraper" selected' in html
    assert "Archive Interval" in html
    assert '<option value="DOGEUSD"' in html


def test_pair_trading_offers_pair_markets(operator_client, db):
    html = operator_client.get("/sessions/new/?type=test&strategy=PairTradeBot", **HTMX).content.decode()

    assert '<option value="XBTUSD+ETHUSD"' in html
    assert '<option value="DOGEUSD"' not in html
    assert "Spread Threshold" in html


def test_a_strategy_change_resets_params_to_its_defaults(operator_client, db):
    html = operator_client.get(
        "/sessions/new/?type=test&strategy=SmaCross&params_for=TestBot&param_threshold=0.9", **HTMX
    ).content.decode()

    assert "param_threshold" not in html
    assert 'name="param_n1" value="10"' in html


def test_a_bad_param_is_shown_next_to_its_field(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        {
            "type": "test",
            "strategy": "TestBot",
            "market": "XBTUSD",
            "params_for": "TestBot",
            "param_threshold": "1.5",
            "param_position_size": "100",
            "action": "save",
        },
        **HTMX,
    )

    assert response.status_code == 422
    html = response.content.decode()
    threshold = field_block(html, "param_threshold")
    assert 'class="field-error"' in threshold and "at most 1" in threshold
    assert 'aria-invalid="true"' in threshold
    assert 'value="1.5"' in threshold  # what the user typed stays
    assert "field-error" not in field_block(html, "param_position_size")
    assert Session.objects.count() == 0


def test_a_bad_date_range_is_shown_next_to_the_end_date(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        {
            "type": "backtest",
            "strategy": "TestBot",
            "market": "XBTUSD",
            "params_for": "TestBot",
            "start_date": "2024-01-22",
            "end_date": "2024-01-10",
        },
        **HTMX,
    )

    assert response.status_code == 422
    end = field_block(response.content.decode(), "end_date")
    assert "Must be after range_start" in end


def test_create_makes_a_row_and_triggers_the_refresh(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        {
            "type": "test",
            "strategy": "TestBot",
            "market": "ETHUSD",
            "params_for": "TestBot",
            "param_threshold": "0.7",
            "param_position_size": "5",
            "name": "My ETH Test",
            "action": "save",
        },
        **HTMX,
    )

    assert response.status_code == 204
    trigger = json.loads(response["HX-Trigger"])
    assert trigger["sessionsChanged"] is True and trigger["closeModal"] is True
    session = Session.objects.get()
    assert (session.name, session.market, session.status) == ("My ETH Test", "ETHUSD", "created")
    assert session.strategy_params == {"threshold": 0.7, "position_size": 5}
    assert session.created_by == operator_client.user
    assert "My ETH Test" in operator_client.get("/").content.decode()


def test_a_backtest_date_range_becomes_utc_midnights_with_an_inclusive_end(operator_client, db):
    start = date.today() - timedelta(days=10)
    end = date.today() - timedelta(days=3)

    response = operator_client.post(
        "/sessions/new/",
        {
            "type": "backtest",
            "strategy": "TestBot",
            "market": "XBTUSD",
            "params_for": "TestBot",
            "start_date": start.isoformat(),
            "end_date": end.isoformat(),
        },
        **HTMX,
    )

    assert response.status_code == 204
    session = Session.objects.get()
    assert session.range_start == int(datetime(start.year, start.month, start.day, tzinfo=UTC).timestamp())
    after_end = end + timedelta(days=1)
    assert session.range_end == int(
        datetime(after_end.year, after_end.month, after_end.day, tzinfo=UTC).timestamp()
    )


def test_create_and_start_starts_it(operator_client, db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        response = operator_client.post(
            "/sessions/new/",
            {
                "type": "test",
                "strategy": "TestBot",
                "market": "XBTUSD",
                "action": "start",
            },
            **HTMX,
        )

    assert response.status_code == 204
    assert Session.objects.get().status == "running"


def test_edit_changes_a_created_session(operator_client, new_session):
    session = new_session(name="Draft")

    form = operator_client.get(f"/sessions/{session.pk}/edit/", **HTMX).content.decode()
    response = operator_client.post(
        f"/sessions/{session.pk}/edit/",
        {
            "type": "test",
            "strategy": "TestBot",
            "market": "SOLUSD",
            "params_for": "TestBot",
            "param_threshold": "0.3",
            "param_position_size": "7",
            "name": "Renamed",
            "action": "save",
        },
        **HTMX,
    )

    assert "Edit Session" in form and 'value="Draft"' in form and ">Save<" in form
    assert response.status_code == 204
    session.refresh_from_db()
    assert (session.name, session.market, session.strategy_params) == (
        "Renamed",
        "SOLUSD",
        {"threshold": 0.3, "position_size": 7},
    )


def test_edit_of_a_running_session_is_refused(operator_client, new_session):
    session = new_session(status="running")

    response = operator_client.get(f"/sessions/{session.pk}/edit/", **HTMX)

    assert response.status_code == 409


def test_the_form_works_as_a_page_without_htmx(operator_client, db):
    page = operator_client.get("/sessions/new/")
    response = operator_client.post(
        "/sessions/new/", {"type": "test", "strategy": "TestBot", "market": "XBTUSD"}
    )

    assert page.status_code == 200 and "<html" in page.content.decode()
    assert response.status_code == 302
    assert Session.objects.count() == 1


# --- the form refuses what the API refuses ------------------------------------------------
# Before, an unknown market, type or strategy was swapped for the modal's default and a missing
# date for last week, and the session was created with what the user never chose.


def _submitted(**fields):
    return {
        "type": "backtest",
        "strategy": "TestBot",
        "market": "XBTUSD",
        "params_for": "TestBot",
        "start_date": "2024-01-01",
        "end_date": "2024-01-07",
        "action": "save",
        **fields,
    }


@pytest.mark.parametrize(
    "fields, input_name, said",
    [
        ({"market": "NOPEUSD"}, "market", "NOPEUSD"),
        ({"type": "bogus"}, "type", "bogus"),
        ({"strategy": "Breakout"}, "strategy", "Breakout"),
        ({"start_date": ""}, "start_date", "Enter a date"),
        ({"end_date": ""}, "end_date", "Enter a date"),
        ({"end_date": "2024-13-40"}, "end_date", "Enter a date"),
    ],
)
def test_what_the_api_refuses_the_form_refuses_naming_the_field(
    operator_client, operator_api, db, fields, input_name, said
):
    response = operator_client.post("/sessions/new/", _submitted(**fields), **HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    assert said in html and 'class="field-error"' in html, input_name
    assert Session.objects.count() == 0


def test_the_form_and_the_api_agree_on_an_unknown_market(operator_client, operator_api, db):
    api = operator_api.post(
        "/api/sessions",
        {"type": "test", "strategy": "TestBot", "market": "NOPEUSD"},
        format="json",
    )
    form = operator_client.post("/sessions/new/", _submitted(type="test", market="NOPEUSD"), **HTMX)

    assert (api.status_code, form.status_code) == (400, 422)
    assert api.json()["errors"]["market"][0] in form.content.decode()
