"""A session's chart: a window of its price as candles, its run's trades as markers, its equity.

Top to bottom: the query parameters, the answer, the view.
"""

from __future__ import annotations

from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api import params
from sessions_app.api.params import Query
from sessions_app.api.renderers import FastJSONRenderer
from sessions_app.api.serializers import json_field, serializer_for, success
from sessions_app.api.session_data import EquityField
from sessions_app.api.trades import RUN
from sessions_app.api.views import DATA, Operation, answer, endpoint, session_for
from sessions_app.errors import InvalidInput
from sessions_app.representations import TIMEFRAME_CHOICES, TRADE_SIDES, UNIX, Choice, Field, Shape
from sessions_app.selectors import ChartWindow
from sessions_app.selectors.charts import DEFAULT_POINTS, MARKER_KINDS, MAX_POINTS

# A chart needs at least two candles to be one; more than MAX_POINTS are clamped (as limit is).
MIN_POINTS = 2

# --- query --------------------------------------------------------------------------------------

# The window's bounds and sizes are checked together: every bad one is named in one answer.
WINDOW_QUERY = Query(
    params.unix("from", "Window start (Unix seconds); default the session's start."),
    params.unix("to", "Window end, exclusive (Unix seconds, after from); default its end."),
    params.whole(
        "max_points",
        "At most this many candles (default 2,000; more than 10,000 is clamped).",
        minimum=MIN_POINTS,
    ),
    params.whole(
        "interval", "Seconds per candle at least (a live chart's poll keeps the size it drew).", minimum=1
    ),
    all_errors=True,
)
MARKET = params.text("market", "Which market leg of a pair session; default the first.")
CHART_QUERY = Query(RUN, *WINDOW_QUERY.params, MARKET)


def chart_window(raw) -> ChartWindow:
    """GET /api/sessions/<id>/chart's `from`, `to`, `max_points`, `interval` and `market`."""
    values = WINDOW_QUERY.parse(raw)
    if values["from"] is not None and values["to"] is not None and values["to"] <= values["from"]:
        raise InvalidInput.from_errors({"to": [f"Must be after from ({values['from']})."]})
    return ChartWindow(
        start=values["from"],
        end=values["to"],
        max_points=min(values["max_points"] or DEFAULT_POINTS, MAX_POINTS),
        interval=values["interval"],
        market=MARKET.read(raw),
    )


# --- answer -------------------------------------------------------------------------------------

# selectors.charts' markers: one per trade entry and exit in the window.
MARKER = Shape(
    "ChartMarker",
    "",
    (
        Field("time", int, f"When the trade entered or exited ({UNIX})."),
        Field("side", Choice(TRADE_SIDES)),
        Field("price", float, nullable=True),
        Field(
            "kind",
            Choice(list(MARKER_KINDS)),
            "entry; exit; liquidation: the exit of a trade closed by a liquidation.",
        ),
        Field("trade_id", int),
        Field("pnl", float, "The trade's realized PnL, on its exit marker.", nullable=True),
    ),
)
CandlesField = json_field(
    "CandlesField",
    {
        "type": "array",
        "items": {"type": "array", "items": {"type": "number"}, "minItems": 6, "maxItems": 6},
        "description": "[[open time (Unix seconds), open, high, low, close, volume], ...], oldest first.",
    },
)

# "from" is a Python keyword: the class is built from a dict of its fields.
ChartAnswerSerializer = type(
    "ChartAnswerSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A chart's window: candles, every trade of it as markers, the equity in it.",
        "__module__": __name__,
        "success": success(True),
        "candles": CandlesField(),
        "markers": serializer_for(MARKER)(many=True),
        "equity": EquityField(),
        "market": serializers.CharField(help_text="The market leg drawn."),
        "timeframe": serializers.ChoiceField(choices=TIMEFRAME_CHOICES),
        "config_hash": serializers.CharField(allow_null=True),
        "live": serializers.BooleanField(help_text="The session runs: poll for what follows `to`."),
        "from": serializers.IntegerField(allow_null=True, help_text="The window served (Unix seconds)."),
        "to": serializers.IntegerField(allow_null=True, help_text="Its end, exclusive (Unix seconds)."),
        "interval": serializers.IntegerField(help_text="Seconds per candle after aggregation."),
    },
)

# --- view ---------------------------------------------------------------------------------------


@endpoint(
    renderers=[FastJSONRenderer],
    get=Operation(
        "A session's chart: candles, trade markers, equity",
        DATA,
        {200: ChartAnswerSerializer},
        (400, 404),
        query=CHART_QUERY,
    ),
)
def session_chart(request, session_id: str):
    """A window of the session's price as OHLC candles aggregated to at most `max_points`, every
    trade of the run in it as entry/exit markers, and the run's equity in it."""
    session = session_for(session_id)
    window = chart_window(request.query_params)
    run = selectors.run_for(session=session, config_hash=RUN.read(request.query_params))
    return answer(ChartAnswerSerializer, **selectors.session_chart(session=session, run=run, window=window))
