"""The Running Sessions tab and its polled rows."""

import json
import re

from tests.dashboard.conftest import HTMX

XSS = "<script>alert(1)</script>"


def row_html(html: str, session_id: str) -> str:
    match = re.search(rf'<article[^>]*data-session-id="{session_id}".*?</article>', html, re.S)
    assert match, f"no row for {session_id}"
    return match.group(0)


def test_it_lists_running_and_created_sessions_with_counts(operator_client, new_session):
    running = new_session(status="running", name="BTC Test #1")
    created = new_session(name="SOL Test Draft", market="SOLUSD")
    new_session(status="stopped", name="Old one")

    response = operator_client.get("/")

    assert response.status_code == 200
    html = response.content.decode()
    assert "RUNNING SESSIONS (1)" in html
    assert "PENDING / CREATED (1)" in html
    assert "Old one" not in html
    assert 'hx-trigger="sessionsChanged from:body"' in html
    running_row = row_html(html, running.pk)
    assert "TestBot" in running_row and "XBTUSD" in running_row
    assert "PnL: 0.00000000 XBT (0% win)" in running_row
    assert ">Stop<" in running_row and ">View<" in running_row
    created_row = row_html(html, created.pk)
    assert "Created just now" in created_row and "Not started" in created_row
    assert ">Start<" in created_row and ">Edit<" in created_row and ">×<" in created_row
    assert "hx-confirm" in created_row


def test_the_base_template_sends_the_csrf_token_with_every_htmx_request(operator_client, db):
    html = operator_client.get("/").content.decode()

    assert re.search(
        r"<body hx-headers='\{&quot;x-csrftoken&quot;: &quot;\w+&quot;\}'|<body hx-headers='\{\"x-csrftoken\": \"\w+\"\}'",
        html,
    )
    assert "htmx" in html and "Running Sessions" in html and "+ New Session" in html


def test_a_running_row_polls_every_2s_and_a_stopped_row_does_not(operator_client, new_session):
    running = new_session(status="running")
    stopped = new_session(status="stopped")

    polled = operator_client.get(f"/sessions/{running.pk}/row/", **HTMX)
    finished = operator_client.get(f"/sessions/{stopped.pk}/row/", **HTMX)

    assert polled.status_code == finished.status_code == 200
    assert 'hx-trigger="every 2s"' in polled.content.decode()
    assert f'hx-get="/sessions/{running.pk}/row/' in polled.content.decode()
    assert "every 2s" not in finished.content.decode()
    assert "moved to History" in finished.content.decode()


def test_a_row_that_just_finished_tells_the_lists_to_refresh(operator_client, new_session):
    session = new_session(status="stopped")

    response = operator_client.get(f"/sessions/{session.pk}/row/?was=running", **HTMX)

    assert json.loads(response["HX-Trigger"]) == {"sessionsChanged": True}


def test_a_polled_row_of_a_deleted_session_goes_away(operator_client, db):
    response = operator_client.get("/sessions/no-such-session/row/", **HTMX)

    assert response.status_code == 200
    assert response.content == b""
    assert "sessionsChanged" in response["HX-Trigger"]


def test_a_running_session_nobody_claimed_is_waiting_for_a_worker(operator_client, new_session):
    session = new_session(status="running")

    html = operator_client.get(f"/sessions/{session.pk}/row/", **HTMX).content.decode()

    assert "Waiting for a worker…" in html


def test_a_backtest_row_shows_its_progress_in_candles(operator_client, new_session):
    from sessions_app.models import Session

    session = new_session(status="running", type="backtest")
    Session.objects.filter(pk=session.pk).update(progress_done=1234, progress_total=2500)

    html = operator_client.get(f"/sessions/{session.pk}/row/", **HTMX).content.decode()

    assert "Backtesting 49%" in html
    assert "1,234 / 2,500 candles" in html


def test_a_scraper_row_shows_its_data_points(operator_client, new_session):
    from sessions_app.models import Session

    session = new_session(status="running", type="scraper", strategy="MarketScraper")
    Session.objects.filter(pk=session.pk).update(progress_done=8432)

    html = operator_client.get("/").content.decode()

    assert "Data points: 8,432" in row_html(html, session.pk)


def test_a_viewer_sees_rows_but_no_action_buttons(viewer_client, new_session):
    running = new_session(status="running")
    created = new_session()

    html = viewer_client.get("/").content.decode()

    for session in (running, created):
        row = row_html(html, session.pk)
        for label in (">Stop<", ">Start<", ">Edit<", ">×<"):
            assert label not in row
        assert ">View<" in row
    assert "+ New Session" not in html


def test_session_names_are_escaped(operator_client, new_session):
    new_session(status="running", name=XSS)
    new_session(name=XSS)

    html = operator_client.get("/").content.decode()

    assert XSS not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_list_partial_is_served_to_htmx(operator_client, new_session):
    new_session(status="running", name="Polled")

    response = operator_client.get("/", **HTMX)

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<div id="running-list"')
    assert "<html" not in html
    assert "Polled" in html
