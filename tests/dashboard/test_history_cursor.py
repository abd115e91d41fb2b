"""History pages with keyset cursors: Next and Previous carry the key of the last / first row."""

import html
import re
import uuid
from datetime import timedelta

from django.utils import timezone

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX


def names(page: str) -> list[str]:
    return re.findall(r'<a href="/sessions/[^"]+/" class="row-name">([^<]*)</a>', page)


def link(page: str, label: str) -> str | None:
    found = re.search(rf'<a class="btn btn-sm" href="\?([^"]*)"[^>]*>{label}</a>', page)
    return html.unescape(found.group(1)) if found else None


def load(count: int) -> list[str]:
    """Finished sessions, bulk-loaded (as an import would), newest first by name."""
    now = timezone.now()
    Session.objects.bulk_create(
        [
            Session(
                id=str(uuid.uuid4()),
                name=f"Done {k:03d}",
                type="test",
                market="XBTUSD",
                strategy="TestBot",
                status="completed",
                created_at=now - timedelta(minutes=k),
            )
            for k in range(count)
        ]
    )
    return [f"Done {k:03d}" for k in range(count)]


def test_next_walks_every_finished_session_once_in_order_by_cursor(operator_client):
    expected = load(65)
    seen, query, pages = [], "", 0
    while True:
        page = operator_client.get(f"/history/?{query}", **HTMX).content.decode()
        pages += 1
        seen += names(page)
        query = link(page, "Next &gt;")
        if query is None:
            break
        assert "after=" in query
        # A session made between pages is newer than the walk: it does not push rows along.
        Session.objects.create(
            name=f"New {pages}", type="test", market="XBTUSD", strategy="TestBot", status="stopped"
        )

    assert seen == expected and pages == 4
    assert "Showing 61-65 of 68" in page


def test_previous_goes_back_one_page_by_cursor(operator_client):
    expected = load(50)
    first = operator_client.get("/history/", **HTMX).content.decode()
    second = operator_client.get(f"/history/?{link(first, 'Next &gt;')}", **HTMX).content.decode()
    third = operator_client.get(f"/history/?{link(second, 'Next &gt;')}", **HTMX).content.decode()

    back = operator_client.get(f"/history/?{link(third, '&lt; Prev')}", **HTMX).content.decode()
    start = operator_client.get(f"/history/?{link(back, '&lt; Prev')}", **HTMX).content.decode()

    assert "before=" in link(third, "&lt; Prev")
    assert names(back) == names(second) == expected[20:40]
    assert names(start) == expected[:20] and "Showing 1-20 of 50" in start


def test_an_edited_cursor_is_ignored_and_the_numbered_page_shown(operator_client):
    expected = load(30)

    page = operator_client.get("/history/?after=forged&page=2", **HTMX)

    assert page.status_code == 200
    assert names(page.content.decode()) == expected[20:]
