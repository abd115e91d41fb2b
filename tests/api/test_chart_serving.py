"""How the chart endpoint is served (p95 < 50 ms): the answer written by orjson with
JSONRenderer's values, freed as its request ends (not left to the collector), and a served
process that has loaded what the first requests would load before freezing it."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from datetime import UTC, datetime
from decimal import Decimal

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from django.utils.translation import gettext_lazy
from rest_framework.authtoken.models import Token
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from bench.server import wsgi_get
from sessions_app.api.renderers import FastJSONRenderer
from sessions_app.models import Trade
from tests.worker_fixtures import ROOT

START = 1_704_067_200


def test_the_fast_renderer_writes_the_json_renderers_values():
    data = {
        "success": True,
        "candles": [
            (START, 60_000.5, 60_010.25, 59_990.0, 60_001.0, 1e-05),
            (START + 60, 1.5e300, 0.1, 0, -2, 7),
        ],
        "markers": [{"time": START, "side": "long", "pnl": None, "trade_id": 12}],
        "equity": [[START, 1.0000000000000002]],
        "name": "line\u2028and\u2029paragraph separators, ünïcode",
        "when": datetime(2024, 1, 2, 3, 4, 5, 678901, tzinfo=UTC),
        "fee": Decimal("0.000010"),
        "label": gettext_lazy("Chart"),
        7: "a key that is not a string",
    }

    fast = FastJSONRenderer().render(data)
    usual = JSONRenderer().render(data)

    assert json.loads(fast) == json.loads(usual)
    assert json.loads(fast)["when"] == "2024-01-02T03:04:05.678901Z"  # DRF's form, not orjson's +00:00
    assert "\u2028".encode() not in fast and b"\\u2028" in fast and b"\\u2029" in fast
    # An indented answer asked for is JSONRenderer's own.
    assert FastJSONRenderer().render(data, "application/json; indent=4") == JSONRenderer().render(
        data, "application/json; indent=4"
    )


def _wsgi_get(token: str, path: str) -> tuple[str, bytes]:
    """GET through Django's WSGI handler as gunicorn calls it (the test client keeps answers of
    its own in cycles: response.json and friends), the test's transaction left open."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        return wsgi_get(
            WSGIHandler(), path, {"HTTP_HOST": "testserver", "HTTP_AUTHORIZATION": f"Token {token}"}
        )
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def test_a_chart_answer_is_freed_when_its_request_ends(operator, make_session):
    session = make_session(type="backtest", range_start=START, range_end=START + 30 * 86_400, exchange="sim")
    run = session.runs.get()
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market="XBTUSD",
            side="long",
            entry_time=START + k * 3600,
            entry_price="50000",
            entry_size="1",
            exit_time=START + k * 3600 + 1800,
            exit_price="50010",
            exit_size="1",
            realized_pnl="0.0001",
            fee="0.00001",
        )
        for k in range(200)
    )
    token = Token.objects.get_or_create(user=operator)[0].key
    path = f"/api/sessions/{session.id}/chart?max_points=2000"
    assert _wsgi_get(token, path)[0].startswith("200")  # what the first request loads

    enabled = gc.isenabled()
    gc.disable()
    gc.collect()
    gc.set_debug(gc.DEBUG_SAVEALL)  # what the collector finds unreachable stays in gc.garbage
    try:
        status, body = _wsgi_get(token, path)
        gc.collect()
        left_to_the_collector = [o for o in gc.garbage if isinstance(o, Response)]
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        if enabled:
            gc.enable()

    assert status.startswith("200") and len(json.loads(body)["markers"]) == 400
    # DRF's view and renderer_context referred to the answer (and its thousands of rows): it
    # waited for a full collection, which freed ten of them at once in some later request.
    assert left_to_the_collector == []


def test_a_served_process_has_loaded_the_views_and_the_sims_compiled_code_before_freezing():
    # A fresh process, as gunicorn's worker: config.wsgi loads the app and freezes what it holds;
    # what a chart of a `sim` session then loads (the URLconf and views, numba's compiled value
    # noise: ~60,000 objects when the freeze came first) is out of every full collection's walk.
    script = (
        "import gc, config.wsgi\n"
        "from django.urls import resolve\n"
        "from bots.exchanges.sim import SimExchange\n"
        "resolve('/api/sessions/00000000-0000-0000-0000-000000000000/chart')\n"
        "SimExchange().candles('XBTUSD', '1h', 1704067200, 1704067200 + 7 * 86400)\n"
        "gc.collect()\n"
        "print(gc.get_freeze_count(), len(gc.get_objects()))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    frozen, walked = map(int, done.stdout.split()[-2:])
    assert frozen > 100_000 and walked < 5_000, (frozen, walked)
