"""The modal's account fields: Leverage, Sizing, Maintenance margin %, Funding are sent to the
services as the API takes them, their errors shown under each, and an edit or a clone opens
with the session's own."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX, past_range
from tests.dashboard.test_session_form import field_block


def _posted(**fields) -> dict[str, str]:
    return {
        "type": "backtest",
        "strategy": "SmaCross",
        "market": "ETHUSD",
        "params_for": "SmaCross",
        "start_date": "2024-01-01",
        "end_date": "2024-01-07",
        "action": "save",
        **fields,
    }


def _selected(html: str, select_name: str) -> str:
    block = re.search(rf'<select id="id_{select_name}" name="{select_name}".*?</select>', html, re.S)
    assert block, select_name
    chosen = re.findall(r'<option value="([^"]*)" selected>', block.group(0))
    assert len(chosen) == 1, chosen
    return chosen[0]


def test_the_account_fields_are_offered_with_their_defaults(operator_client, db):
    html = operator_client.get("/sessions/new/?type=backtest", **HTMX).content.decode()

    assert 'value="1"' in field_block(html, "leverage")
    assert _selected(html, "sizing") == "units"
    assert ">Units<" in html and ">Share of equity<" in html and ">Notional<" in html
    assert 'value=""' in field_block(html, "maintenance_margin_pct")
    assert _selected(html, "funding") == ""  # the market's default


def test_a_scraper_has_no_account(operator_client, db):
    html = operator_client.get("/sessions/new/?type=scraper", **HTMX).content.decode()

    assert 'name="leverage"' not in html and 'name="sizing"' not in html


def test_create_takes_leverage_sizing_margin_and_funding(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        _posted(
            param_position_size="2500",
            leverage="3",
            sizing="notional",
            maintenance_margin_pct="0.4",
            funding="off",
        ),
        **HTMX,
    )

    assert response.status_code == 204, response.content.decode()
    session = Session.objects.get()
    assert (session.leverage, session.sizing) == (Decimal("3"), "notional")
    assert (session.maintenance_margin_pct, session.funding) == (Decimal("0.4"), False)


def test_a_blank_margin_and_the_default_funding_are_the_markets(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        _posted(leverage="1", sizing="units", maintenance_margin_pct="", funding=""),
        **HTMX,
    )

    assert response.status_code == 204, response.content.decode()
    session = Session.objects.get()
    assert (session.leverage, session.sizing) == (Decimal("1"), "units")
    assert (session.maintenance_margin_pct, session.funding) == (None, None)


@pytest.mark.parametrize(
    "fields, input_name",
    [
        ({"leverage": "0"}, "leverage"),
        ({"leverage": "1000"}, "leverage"),
        ({"leverage": "lots"}, "leverage"),
        ({"sizing": "martingale"}, "sizing"),
        ({"maintenance_margin_pct": "-1"}, "maintenance_margin_pct"),
        ({"funding": "maybe"}, "funding"),
    ],
)
def test_a_bad_account_value_is_shown_under_its_field(operator_client, db, fields, input_name):
    response = operator_client.post("/sessions/new/", _posted(**fields), **HTMX)

    assert response.status_code == 422
    html = response.content.decode()
    assert html.count('class="field-error"') == 1, html
    assert f'id="error_{input_name}" data-field="{input_name}"' in field_block(html, input_name)
    assert 'aria-invalid="true"' in field_block(html, input_name)
    assert Session.objects.count() == 0


def test_sizing_by_equity_with_a_position_size_over_1_is_refused_under_position_size(operator_client, db):
    response = operator_client.post(
        "/sessions/new/",
        _posted(sizing="equity", param_position_size="2"),
        **HTMX,
    )

    assert response.status_code == 422
    assert "fraction" in field_block(response.content.decode(), "param_position_size")


def test_edit_and_clone_open_with_the_sessions_account(operator_client, new_session):
    session = new_session(
        type="backtest",
        strategy="SmaCross",
        strategy_params={"position_size": 0.25},
        leverage=2.5,
        sizing="equity",
        maintenance_margin_pct=0.35,
        funding=True,
        **past_range(),
    )

    edit = operator_client.get(f"/sessions/{session.pk}/edit/", **HTMX).content.decode()
    clone = operator_client.post(f"/sessions/{session.pk}/clone/", **HTMX)

    for html in (edit, clone.content.decode()):
        assert 'value="2.5"' in field_block(html, "leverage")
        assert _selected(html, "sizing") == "equity"
        assert 'value="0.35"' in field_block(html, "maintenance_margin_pct")
        assert _selected(html, "funding") == "on"
    copy = Session.objects.get(cloned_from=session)
    assert (copy.leverage, copy.sizing, copy.maintenance_margin_pct, copy.funding) == (
        Decimal("2.5"),
        "equity",
        Decimal("0.35"),
        True,
    )
