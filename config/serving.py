"""What a served process does once the app is loaded (config/wsgi.py; bench.charts in-process)."""

import gc

from django.urls import get_resolver

from bots.exchanges.sim import load_compiled


def freeze_loaded() -> None:
    """Load what the first requests would load lazily (the URLconf with every view and the
    API, the sim exchange's compiled code), then freeze all the process holds out of the
    collector's reach: it lives as long as the process, so a full collection no longer walks
    it. Requests that make many objects (a chart's thousands of candles and markers) then pay
    no 20-50 ms pause every few calls, and the first chart of a `sim` session does not wait
    half a second for numba."""
    get_resolver().url_patterns  # noqa: B018 - imports the URLconf, its views and the API
    load_compiled()
    gc.collect()
    gc.freeze()
