"""Trades: a page of a run's trades (the best run's, or one named), or every trade as CSV.

Top to bottom: the query parameters, the answer, the views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api import params
from sessions_app.api.params import Cursor, Paging, Query
from sessions_app.api.serializers import KeysetPage, serializer_for
from sessions_app.api.trades_csv import trades_csv_response
from sessions_app.api.views import DATA, JSON, Operation, answer, endpoint, session_for
from sessions_app.errors import InvalidInput
from sessions_app.representations import TRADE, trade_data
from sessions_app.selectors import TRADES_API_ORDER, cursor_dumps

if TYPE_CHECKING:
    from sessions_app.models import Run

# --- query --------------------------------------------------------------------------------------

RUN = params.text(
    "run", "A run's config_hash; default: the best run (the only one, or a sweep's most profitable)."
)
PAGE_QUERY = Query(Paging(), Cursor("trades", TRADES_API_ORDER, sort="entry_time"))


def _format(raw) -> str:
    answer_format = raw.get("format") or "json"
    if answer_format not in ("json", "csv"):
        raise InvalidInput.from_errors({"format": [f"Must be json or csv (got {answer_format!r})."]})
    return answer_format


FORMAT = params.Param(
    "format",
    {"type": "string", "enum": ["json", "csv"]},
    "json (default): a page of the run's trades. csv: every trade of every run "
    "(or of `run`), streamed with a config_hash column; limit and offset do not apply.",
    _format,
)
# The run and the format are read first: a CSV export reads no paging.
EXPORT_QUERY = Query(RUN, FORMAT)
TRADES_QUERY = Query(*EXPORT_QUERY.params, *PAGE_QUERY.params)

# --- answer -------------------------------------------------------------------------------------


class TradePageSerializer(KeysetPage):
    trades = serializer_for(TRADE)(many=True)
    config_hash = serializers.CharField(allow_null=True, help_text="The run; null when there is none.")


def _trades_page(request, run: Run | None):
    page = selectors.trade_page(run=run, **PAGE_QUERY.parse(request.query_params))
    return answer(
        TradePageSerializer,
        trades=[trade_data(t) for t in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(page.next_key, list_name="trades", sort="entry_time", descending=False),
        config_hash=run.config_hash if run else None,
    )


# --- views --------------------------------------------------------------------------------------

CSV = OpenApiResponse(OpenApiTypes.STR, description="With format=csv: a header row, then one row per trade.")
TRADES = Operation(
    "A session's trades (JSON page or CSV export)",
    DATA,
    {(200, JSON): TradePageSerializer, (200, "text/csv"): CSV},
    (400, 404),
    query=TRADES_QUERY,
)


@endpoint(get=TRADES)
def session_trades(request, session_id: str):
    """A page of the best (or `run=<hash>`) run's trades; `format=csv` streams every trade of
    every run (or of `run`) with a config_hash column."""
    session = session_for(session_id)
    parsed = EXPORT_QUERY.parse(request.query_params)
    if parsed["format"] == "csv":
        runs = selectors.session_export_runs(session=session, config_hash=parsed["run"])
        return trades_csv_response(session, runs)
    return _trades_page(request, selectors.run_for(session=session, config_hash=parsed["run"]))


@endpoint(get=Operation("A run's trades", DATA, {200: TradePageSerializer}, (400, 404), query=PAGE_QUERY))
def session_run_trades(request, session_id: str, config_hash: str):
    run = selectors.run_get(session_id=session_id, config_hash=config_hash)
    return _trades_page(request, run)
