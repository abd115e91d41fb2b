"""The History tab: finished sessions, filters in the URL, search, sorting, paging."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX


def names(html: str) -> list[str]:
    return re.findall(r'<a href="/sessions/[^"]+/" class="row-name">([^<]*)</a>', html)


def test_it_pages_finished_sessions_20_at_a_time(operator_client, new_session):
    for k in range(25):
        new_session(status="stopped", name=f"Finished {k:02d}")
    new_session(status="running", name="Still running")
    new_session(name="Not started")

    first = operator_client.get("/history/").content.decode()
    second = operator_client.get("/history/?page=2", **HTMX).content.decode()

    assert "Showing 1-20 of 25" in first
    assert len(names(first)) == 20
    assert "Still running" not in first and "Not started" not in first
    assert re.search(r'<a class="btn btn-sm" href="\?[^"]*page=2"[^>]*>Next &gt;</a>', first)
    assert "Showing 21-25 of 25" in second
    assert len(names(second)) == 5
    assert "<html" not in second


# Committed rows: InnoDB's full-text index sees a row once its transaction commits. Written
# as a bulk load would: the services' start would queue real tasks once committed.
@pytest.mark.django_db(transaction=True)
def test_filters_by_type_status_market_and_search(operator_client):
    for status, fields in (
        ("stopped", {"name": "BTC plain"}),
        ("completed", {"type": "backtest", "name": "BTC backtest"}),
        ("failed", {"market": "ETHUSD", "name": "ETH failed"}),
    ):
        Session.objects.create(
            **{"type": "test", "market": "XBTUSD", "strategy": "TestBot", "status": status, **fields}
        )

    assert names(operator_client.get("/history/?type=backtest", **HTMX).content.decode()) == ["BTC backtest"]
    assert names(operator_client.get("/history/?status=failed", **HTMX).content.decode()) == ["ETH failed"]
    assert names(operator_client.get("/history/?market=ETHUSD", **HTMX).content.decode()) == ["ETH failed"]
    assert sorted(names(operator_client.get("/history/?q=btc", **HTMX).content.decode())) == [
        "BTC backtest",
        "BTC plain",
    ]


def test_the_period_filter_uses_the_creation_time(operator_client, new_session):
    old = new_session(status="stopped", name="Last month")
    Session.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=20))
    new_session(status="stopped", name="Today")

    week = names(operator_client.get("/history/?period=7d", **HTMX).content.decode())
    month = names(operator_client.get("/history/?period=30d", **HTMX).content.decode())

    assert week == ["Today"]
    assert sorted(month) == ["Last month", "Today"]


def test_columns_sort_both_ways(operator_client, new_session):
    for name in ("Bravo", "Alpha", "Charlie"):
        new_session(status="stopped", name=name)

    ascending = names(operator_client.get("/history/?sort=name&dir=asc", **HTMX).content.decode())
    descending = names(operator_client.get("/history/?sort=name&dir=desc", **HTMX).content.decode())
    by_duration = operator_client.get("/history/?sort=duration&dir=desc", **HTMX)

    assert ascending == ["Alpha", "Bravo", "Charlie"]
    assert descending == ["Charlie", "Bravo", "Alpha"]
    assert by_duration.status_code == 200 and len(names(by_duration.content.decode())) == 3


def test_unknown_filter_and_sort_values_are_ignored_not_errors(operator_client, new_session):
    new_session(status="stopped", name="Kept")

    response = operator_client.get(
        "/history/?sort=password&dir=sideways&type=evil&status=running&page=abc&period=x"
    )

    assert response.status_code == 200
    assert "Kept" in response.content.decode()


def test_filters_live_in_the_url_the_page_pushes(operator_client, new_session):
    new_session(status="stopped")

    html = operator_client.get("/history/?type=test&q=x").content.decode()

    assert 'hx-push-url="true"' in html
    assert 'hx-trigger="keyup changed delay:300ms, search"' in html
    assert '<option value="test" selected>' in html
    assert 'name="q" value="x"' in html


def test_rows_have_clone_and_view_but_viewers_only_view(operator_client, viewer_client, new_session):
    session = new_session(status="stopped", name="<script>alert(1)</script>")

    operator_html = operator_client.get("/history/").content.decode()
    viewer_html = viewer_client.get("/history/").content.decode()

    assert f"/sessions/{session.pk}/clone/" in operator_html
    assert f"/sessions/{session.pk}/clone/" not in viewer_html
    assert 'title="View"' in viewer_html
    assert "<script>alert(1)</script>" not in operator_html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in operator_html
