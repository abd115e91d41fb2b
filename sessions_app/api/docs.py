"""The OpenAPI declaration of every API view: query parameters, bodies, answers, refusals.

Kept beside the views rather than on them, one entry per view function, so a view reads as
the few lines it runs; `views.endpoint` looks its entry up by the function's name and fails at
import when one is missing (an undocumented endpoint would be a generic object again).
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema

from sessions_app.api import run_serializers as rs
from sessions_app.api import serializers as s
from sessions_app.selectors import RUN_SEARCH_SORTS, RUN_SORTS, SESSION_SORTS

# --- refusals -----------------------------------------------------------------------------------

_REFUSALS = {
    400: "Bad input: `errors` names every field at fault.",
    401: "No valid token or login.",
    403: "Logged in without the operate_session permission (or a session login without CSRF token).",
    404: "No such session, run or strategy.",
    409: "The session is in the wrong state for this, or the type's running limit is reached.",
    503: "The database (or, for a start, the task broker) is unreachable for now; try again. "
    "A start refused so leaves the session `created`.",
}


def _refused(*codes: int) -> dict[int, OpenApiResponse]:
    """The error envelope under each status in `codes`, plus 401 and 503, which any call can get."""
    return {
        code: OpenApiResponse(s.ErrorSerializer, description=_REFUSALS[code])
        for code in sorted({401, 503, *codes})
    }


def _answers(ok: dict, *refusals: int) -> dict:
    return {**ok, **_refused(*refusals)}


# --- query parameters ---------------------------------------------------------------------------


def _comma_list(name: str, description: str, enum: list[str] | None = None) -> OpenApiParameter:
    items = {"type": "string", **({"enum": enum} if enum else {})}
    return OpenApiParameter(
        name, {"type": "array", "items": items}, style="form", explode=False, description=description
    )


def _sorts(fields: set[str]) -> list[str]:
    return [f"{field}{direction}" for field in sorted(fields) for direction in ("", ":asc", ":desc")]


LIMIT = OpenApiParameter(
    "limit", {"type": "integer", "minimum": 0}, description="Page size: default 50 (also for 0), at most 200."
)
OFFSET = OpenApiParameter("offset", {"type": "integer", "minimum": 0}, description="Items to skip.")
KEYSET_CURSOR = OpenApiParameter(
    "cursor",
    str,
    description="next_cursor of the previous page (keyset: any depth costs what the first page does), "
    "with the same sort; not with an offset past 0. Another list's or sort's cursor is a 400.",
)
RUN = OpenApiParameter(
    "run",
    str,
    description="A run's config_hash; default: the best run (the only one, or a sweep's most profitable).",
)

SESSION_LIST_PARAMETERS = [
    _comma_list("status", "Comma list of statuses.", s.STATUSES),
    _comma_list("type", "Comma list of session types.", s.SESSION_TYPES),
    _comma_list("market", "Comma list of markets (XBTUSD, XBTUSD+ETHUSD, ...)."),
    _comma_list("strategy", "Comma list of strategy ids."),
    OpenApiParameter(
        "q",
        str,
        description="Words of the names and notes, through a full-text index: every word must "
        "match a word or the start of one, in any case.",
    ),
    OpenApiParameter("created_after", str, description="Unix seconds or an ISO 8601 time; inclusive."),
    OpenApiParameter("created_before", str, description="Unix seconds or an ISO 8601 time; exclusive."),
    OpenApiParameter(
        "sort",
        str,
        enum=_sorts(SESSION_SORTS),
        description="field or field:asc|desc; default created_at:desc.",
    ),
    LIMIT,
    OFFSET,
    KEYSET_CURSOR,
]
RUN_LIST_PARAMETERS = [
    _comma_list("status", "Comma list of run statuses.", s.STATUSES),
    OpenApiParameter(
        "sort", str, enum=_sorts(RUN_SORTS), description="field or field:asc|desc; default id:asc."
    ),
    LIMIT,
    OFFSET,
    KEYSET_CURSOR,
]
UNIX_SECONDS = {"type": "integer", "minimum": 0}
RUNS_PARAMETERS = [
    _comma_list("market", "Comma list of the sessions' markets (XBTUSD, XBTUSD+ETHUSD, ...)."),
    _comma_list("exchange", "Comma list of the sessions' exchanges."),
    _comma_list("timeframe", "Comma list of the sessions' timeframes.", s.TIMEFRAME_CHOICES),
    _comma_list("strategy", "Comma list of the sessions' strategy ids."),
    _comma_list("status", "Comma list of the runs' statuses.", s.STATUSES),
    OpenApiParameter(
        "session", {"type": "string", "pattern": "^[0-9a-fA-F-]{1,36}$"}, description="One session's runs."
    ),
    OpenApiParameter("range_start", UNIX_SECONDS, description="The sessions' range_start (Unix seconds)."),
    OpenApiParameter("range_end", UNIX_SECONDS, description="The sessions' range_end (Unix seconds)."),
    OpenApiParameter(
        "sort",
        str,
        enum=_sorts(RUN_SEARCH_SORTS),
        description="field or field:asc|desc, ties in id order; default created_at:desc "
        "(created_at is the run id's order: runs are made with their session).",
    ),
    LIMIT,
    OpenApiParameter(
        "cursor",
        str,
        description="next_cursor of the previous page, with the same sort (another sort's cursor is a 400).",
    ),
]
RUNS_SUMMARY_PARAMETERS = [
    OpenApiParameter("market", str, required=True, description="The group's market (symbol)."),
    OpenApiParameter("timeframe", str, enum=s.TIMEFRAME_CHOICES, required=True, description="Its timeframe."),
    OpenApiParameter(
        "range_start", UNIX_SECONDS, required=True, description="Its range_start (Unix seconds)."
    ),
    OpenApiParameter("range_end", UNIX_SECONDS, required=True, description="Its range_end (Unix seconds)."),
]
TRADES_PARAMETERS = [
    RUN,
    LIMIT,
    OFFSET,
    KEYSET_CURSOR,
    OpenApiParameter(
        "format",
        str,
        enum=["json", "csv"],
        description="json (default): a page of the run's trades. csv: every trade of every run "
        "(or of `run`), streamed with a config_hash column; limit and offset do not apply.",
    ),
]
CHART_PARAMETERS = [
    RUN,
    OpenApiParameter(
        "from", UNIX_SECONDS, description="Window start (Unix seconds); default the session's start."
    ),
    OpenApiParameter(
        "to", UNIX_SECONDS, description="Window end, exclusive (Unix seconds, after from); default its end."
    ),
    OpenApiParameter(
        "max_points",
        {"type": "integer", "minimum": 2},
        description="At most this many candles (default 2,000; more than 10,000 is clamped).",
    ),
    OpenApiParameter(
        "interval",
        {"type": "integer", "minimum": 1},
        description="Seconds per candle at least (a live chart's poll keeps the size it drew).",
    ),
    OpenApiParameter("market", str, description="Which market leg of a pair session; default the first."),
]
LOGS_PARAMETERS = [
    OpenApiParameter(
        "tail", {"type": "integer", "minimum": 0}, description="The last N lines (default 200, at most 5000)."
    ),
    OpenApiParameter(
        "offset",
        {"type": "integer", "minimum": 0},
        description="Everything after this byte (the `offset` of the previous answer) instead of a tail.",
    ),
]

# --- the operations -----------------------------------------------------------------------------

JSON = "application/json"
SESSIONS, DATA, REFERENCE, LEGACY = "sessions", "session data", "reference data", "deprecated"

SESSION_ANSWER = {200: s.SessionAnswerSerializer}
TRADE_PAGE = {200: s.TradePageSerializer}

OPERATIONS: dict[str, list] = {
    "sessions": [
        extend_schema(
            methods=["GET"],
            summary="List sessions",
            tags=[SESSIONS],
            parameters=SESSION_LIST_PARAMETERS,
            responses=_answers({200: s.SessionListSerializer}, 400),
        ),
        extend_schema(
            methods=["POST"],
            summary="Create a session",
            description="A new `created` session with its run(s); every bad field is named at once.",
            tags=[SESSIONS],
            request={JSON: s.SessionCreateSerializer},
            responses=_answers({201: s.SessionAnswerSerializer}, 400, 403),
        ),
    ],
    "session_detail": [
        extend_schema(
            methods=["GET"], summary="A session", tags=[SESSIONS], responses=_answers(SESSION_ANSWER, 404)
        ),
        extend_schema(
            methods=["PATCH"],
            summary="Change a session",
            description="Name, notes and notify_url always; the configuration only while `created` "
            "(else 409).",
            tags=[SESSIONS],
            request={JSON: s.SessionUpdateSerializer},
            responses=_answers(SESSION_ANSWER, 400, 403, 404, 409),
        ),
        extend_schema(
            methods=["DELETE"],
            summary="Delete a session",
            description="With its runs, trades, events and files; refused while running.",
            tags=[SESSIONS],
            responses=_answers({200: s.SessionDeletedSerializer}, 403, 404, 409),
        ),
    ],
    "session_start": [
        extend_schema(
            summary="Start a session",
            description="`created` -> `running` under the type's running limit; a worker picks it up.",
            tags=[SESSIONS],
            request=None,
            responses=_answers(SESSION_ANSWER, 403, 404, 409),
        )
    ],
    "session_stop": [
        extend_schema(
            summary="Stop a session",
            description="The runner saves what it has and marks it `stopped`; an unclaimed one stops at once.",
            tags=[SESSIONS],
            request=None,
            responses=_answers(SESSION_ANSWER, 403, 404, 409),
        )
    ],
    "session_clone": [
        extend_schema(
            summary="Clone a session",
            description="A new `created` session with the source's configuration.",
            tags=[SESSIONS],
            request={JSON: s.SessionCloneSerializer},
            responses=_answers({201: s.SessionAnswerSerializer}, 400, 403, 404),
        )
    ],
    "session_trades": [
        extend_schema(
            summary="A session's trades (JSON page or CSV export)",
            tags=[DATA],
            parameters=TRADES_PARAMETERS,
            responses=_answers(
                {
                    (200, JSON): s.TradePageSerializer,
                    (200, "text/csv"): OpenApiResponse(
                        OpenApiTypes.STR, description="With format=csv: a header row, then one row per trade."
                    ),
                },
                400,
                404,
            ),
        )
    ],
    "session_metrics": [
        extend_schema(
            summary="A session's metrics",
            tags=[DATA],
            parameters=[RUN],
            responses=_answers({200: s.MetricsAnswerSerializer}, 404),
        )
    ],
    "session_equity": [
        extend_schema(
            summary="A session's equity curve",
            tags=[DATA],
            parameters=[RUN],
            responses=_answers({200: s.EquityAnswerSerializer}, 404),
        )
    ],
    "session_chart": [
        extend_schema(
            summary="A session's chart: candles, trade markers, equity",
            tags=[DATA],
            parameters=CHART_PARAMETERS,
            responses=_answers({200: s.ChartAnswerSerializer}, 400, 404),
        )
    ],
    "session_logs": [
        extend_schema(
            summary="A session's log",
            tags=[DATA],
            parameters=LOGS_PARAMETERS,
            responses=_answers({200: s.LogsAnswerSerializer}, 400, 404),
        )
    ],
    "session_events": [
        extend_schema(
            summary="A session's events",
            tags=[DATA],
            parameters=[LIMIT, OFFSET],
            responses=_answers({200: s.EventPageSerializer}, 400, 404),
        )
    ],
    "session_runs": [
        extend_schema(
            summary="A session's runs",
            description="By offset or keyset cursor; `sort=total_pnl:desc` for the best first.",
            tags=[DATA],
            parameters=RUN_LIST_PARAMETERS,
            responses=_answers({200: s.RunPageSerializer}, 400, 404),
        )
    ],
    "session_run": [
        extend_schema(summary="A run", tags=[DATA], responses=_answers({200: s.RunAnswerSerializer}, 404))
    ],
    "session_run_trades": [
        extend_schema(
            summary="A run's trades",
            tags=[DATA],
            parameters=[LIMIT, OFFSET, KEYSET_CURSOR],
            responses=_answers(TRADE_PAGE, 400, 404),
        )
    ],
    "compare": [
        extend_schema(
            summary="Compare runs",
            tags=[DATA],
            parameters=[
                OpenApiParameter(
                    "runs",
                    {"type": "array", "items": {"type": "integer"}, "minItems": 2, "maxItems": 8},
                    style="form",
                    explode=False,
                    required=True,
                    description="Comma list of 2 to 8 distinct run ids, from any sessions.",
                )
            ],
            responses=_answers({200: s.CompareAnswerSerializer}, 400, 404),
        )
    ],
    "runs": [
        extend_schema(
            summary="Runs across sessions",
            description="Filtered by their sessions' market, exchange, timeframe, strategy, id and "
            "range and by their own status; sorted; keyset-paged: pass next_cursor back as `cursor`.",
            tags=[DATA],
            parameters=RUNS_PARAMETERS,
            responses=_answers({200: rs.RunListSerializer}, 400),
        )
    ],
    "runs_summary": [
        extend_schema(
            summary="Summary of a (market, timeframe, range) group",
            description="Seed 2's SessionSummary over every run of the group's sessions.",
            tags=[DATA],
            parameters=RUNS_SUMMARY_PARAMETERS,
            responses=_answers({200: rs.RunsSummaryAnswerSerializer}, 400),
        )
    ],
    "strategies": [
        extend_schema(
            summary="List strategies",
            tags=[REFERENCE],
            parameters=[
                OpenApiParameter(
                    "type", str, enum=s.SESSION_TYPES, description="Only those that run this type."
                )
            ],
            responses=_answers({200: s.StrategyListSerializer}),
        )
    ],
    "strategy_detail": [
        extend_schema(
            summary="A strategy", tags=[REFERENCE], responses=_answers({200: s.StrategyAnswerSerializer}, 404)
        )
    ],
    "markets": [
        extend_schema(
            summary="List active markets",
            tags=[REFERENCE],
            parameters=[
                OpenApiParameter("exchange", str, enum=s.EXCHANGE_CHOICES, description="Only this exchange.")
            ],
            responses=_answers({200: s.MarketListSerializer}),
        )
    ],
    # The old system's calls: answers carry `deprecated` and the Deprecation/Link headers.
    "latest_test": [
        extend_schema(
            summary="The newest test session (deprecated)",
            tags=[LEGACY],
            deprecated=True,
            responses=_answers({200: s.LegacySessionAnswerSerializer}),
        )
    ],
    "latest_backtest": [
        extend_schema(
            summary="The newest backtest session (deprecated)",
            tags=[LEGACY],
            deprecated=True,
            responses=_answers({200: s.LegacySessionAnswerSerializer}),
        )
    ],
    "test_start": [
        extend_schema(
            summary="Create and start a test session (deprecated)",
            tags=[LEGACY],
            deprecated=True,
            request={JSON: s.LegacyTestStartSerializer},
            responses=_answers({200: s.LegacySessionAnswerSerializer}, 400, 403, 409),
        )
    ],
    "market_start": [
        extend_schema(
            summary="Create and start a scraper (deprecated)",
            tags=[LEGACY],
            deprecated=True,
            request={JSON: s.LegacyMarketStartSerializer},
            responses=_answers({200: s.LegacySessionAnswerSerializer}, 400, 403, 409),
        )
    ],
}


def operations(view_name: str) -> list:
    """The extend_schema declarations of the view function `view_name`."""
    try:
        return OPERATIONS[view_name]
    except KeyError:
        raise LookupError(f"No OpenAPI declaration for the API view {view_name!r} in {__name__}.") from None
