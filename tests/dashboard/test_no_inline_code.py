"""The pages the Content-Security-Policy protects hold no inline code: no <script> without src
(JSON data blocks are not run), no on...= handlers, no style="..." attributes, no <style>.
tests/browser/test_content_security_policy.py watches Chromium for what this cannot see."""

from __future__ import annotations

import re

import pytest

from sessions_app.models import Session
from tests.dashboard.conftest import HTMX

INLINE_SCRIPT = re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>", re.I)
HANDLER = re.compile(r"<[^>]+\son[a-z]+\s*=", re.I)
STYLE_ATTRIBUTE = re.compile(r"<[^>]+\sstyle\s*=", re.I)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.I)


def inline_code(html: str) -> list[str]:
    found = []
    for name, pattern in [
        ("script", INLINE_SCRIPT),
        ("handler", HANDLER),
        ("style attribute", STYLE_ATTRIBUTE),
        ("style element", STYLE_ELEMENT),
    ]:
        found += [f"{name}: {m.group(0)[:120]}" for m in pattern.finditer(html)]
    return found


@pytest.fixture
def pages(operator_client, new_session, with_results, settings):
    settings.SESSION_LIMITS = {"test": 3, "backtest": 3, "scraper": 5}
    running = new_session(status="running", type="backtest", name="Running backtest")
    Session.objects.filter(pk=running.pk).update(progress_done=1234, progress_total=2500)
    with_results(running)
    done = new_session(status="completed", type="backtest", name="Done")
    other = new_session(status="completed", type="backtest", name="Other")
    runs = [with_results(done), with_results(other)]
    new_session(status="running", type="scraper", strategy="MarketScraper")
    return {
        "/": {},
        "/scrapers/": {},
        "/history/?period=all": {},
        "/sessions/new/": {},
        "/sessions/new/?type=backtest": HTMX,
        f"/sessions/{running.pk}/": {},
        f"/sessions/{running.pk}/row/": HTMX,
        f"/sessions/{running.pk}/live/": HTMX,
        f"/sessions/{done.pk}/": {},
        f"/compare/?runs={runs[0].pk},{runs[1].pk}": {},
        "/accounts/login/": {},
    }


def test_no_page_holds_inline_code(operator_client, client, pages):
    found = {}
    for path, headers in pages.items():
        response = (client if path.startswith("/accounts/") else operator_client).get(path, **headers)
        assert response.status_code == 200, path
        html = response.content.decode()
        if inline_code(html):
            found[path] = inline_code(html)

    assert found == {}


def test_the_bars_keep_their_sizes_and_the_swatches_their_colours(operator_client, pages):
    running = Session.objects.get(name="Running backtest")
    row = operator_client.get(f"/sessions/{running.pk}/row/", **HTMX).content.decode()
    compare = operator_client.get(next(p for p in pages if p.startswith("/compare/"))).content.decode()

    assert '<progress class="progress" max="100" value="49"' in row
    assert re.search(r'<svg class="swatch"[^>]*><rect [^>]*fill="#4e79a7"', compare)
