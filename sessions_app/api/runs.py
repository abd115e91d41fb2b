"""Runs: a session's runs and one of them, runs across sessions, and the summary of a (market,
timeframe, range) group.

Top to bottom: the query parameters, the answers, the views.
"""

from __future__ import annotations

from rest_framework import serializers

from bots.candles import TIMEFRAMES
from sessions_app import query, selectors
from sessions_app.api import params
from sessions_app.api.params import Cursor, Paging, Param, Query, Sort
from sessions_app.api.serializers import KeysetPage, serializer_for, shape_field, success
from sessions_app.api.views import DATA, Operation, answer, endpoint, session_for
from sessions_app.errors import InvalidInput
from sessions_app.models import Status
from sessions_app.representations import RUN, SUMMARY, TIMEFRAME_CHOICES, run_data
from sessions_app.selectors import (
    RUN_SEARCH_SORTS,
    RUN_SORTS,
    RunFilters,
    cursor_dumps,
    run_keyset,
    session_run_keyset,
)

# --- query --------------------------------------------------------------------------------------

SESSION_RUNS_QUERY = Query(
    params.choices("status", Status.values, "Comma list of run statuses."),
    Sort(RUN_SORTS, "id:asc", "field or field:asc|desc; default id:asc."),
    Paging(),
    Cursor("session-runs", session_run_keyset),
)


def _timeframe(raw: dict) -> str:
    timeframe = raw["timeframe"]
    if timeframe not in TIMEFRAMES:
        raise InvalidInput.from_errors(
            {"timeframe": [f"One of {', '.join(TIMEFRAMES)} (got {timeframe!r})."]}
        )
    return timeframe


RUNS_QUERY = Query(
    params.names("market", "Comma list of the sessions' markets (XBTUSD, XBTUSD+ETHUSD, ...)."),
    params.names("exchange", "Comma list of the sessions' exchanges."),
    params.choices("timeframe", TIMEFRAME_CHOICES, "Comma list of the sessions' timeframes."),
    params.names("strategy", "Comma list of the sessions' strategy ids."),
    params.choices("status", Status.values, "Comma list of the runs' statuses."),
    Param(
        "session",
        {"type": "string", "pattern": "^[0-9a-fA-F-]{1,36}$"},
        "One session's runs.",
        query.session_id_param,
    ),
    params.unix("range_start", "The sessions' range_start (Unix seconds)."),
    params.unix("range_end", "The sessions' range_end (Unix seconds)."),
    Sort(
        RUN_SEARCH_SORTS,
        "created_at:desc",
        "field or field:asc|desc, ties in id order; default created_at:desc "
        "(created_at is the run id's order: runs are made with their session).",
    ),
    Paging(offset=False),
    Cursor(
        "runs",
        run_keyset,
        alone=True,
        description="next_cursor of the previous page, with the same sort (another sort's cursor is a 400).",
    ),
)

RUNS_SUMMARY_QUERY = Query(
    Param(
        "market", {"type": "string"}, "The group's market (symbol).", lambda raw: raw["market"], required=True
    ),
    Param(
        "timeframe",
        {"type": "string", "enum": TIMEFRAME_CHOICES},
        "Its timeframe.",
        _timeframe,
        required=True,
    ),
    params.unix("range_start", "Its range_start (Unix seconds).", required=True),
    params.unix("range_end", "Its range_end (Unix seconds).", required=True),
    missing="Required: the group is market, timeframe and range.",
)

# --- answers ------------------------------------------------------------------------------------

RunSerializer = serializer_for(RUN)


class RunPageSerializer(KeysetPage):
    runs = RunSerializer(many=True)


class RunAnswerSerializer(serializers.Serializer):
    success = success(True)
    run = RunSerializer()


class RunListSerializer(serializers.Serializer):
    success = success(True)
    runs = RunSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass as ?cursor= (with the same sort) for the next page; null on the last.",
    )
    limit = serializers.IntegerField()


class RunsSummaryAnswerSerializer(serializers.Serializer):
    success = success(True)
    summary = shape_field(SUMMARY)


# --- views --------------------------------------------------------------------------------------


@endpoint(
    get=Operation(
        "A session's runs",
        DATA,
        {200: RunPageSerializer},
        (400, 404),
        query=SESSION_RUNS_QUERY,
        description="By offset or keyset cursor; `sort=total_pnl:desc` for the best first.",
    )
)
def session_runs(request, session_id: str):
    session = session_for(session_id)
    parsed = SESSION_RUNS_QUERY.parse(request.query_params)
    sort, descending = parsed["sort"], parsed["descending"]
    page = selectors.run_list(
        session=session,
        statuses=parsed["status"],
        sort=sort,
        descending=descending,
        limit=parsed["limit"],
        offset=parsed["offset"],
        after=parsed["after"],
    )
    return answer(
        RunPageSerializer,
        runs=[run_data(r) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(page.next_key, list_name="session-runs", sort=sort, descending=descending),
    )


@endpoint(get=Operation("A run", DATA, {200: RunAnswerSerializer}, (404,)))
def session_run(request, session_id: str, config_hash: str):
    run = selectors.run_get(session_id=session_id, config_hash=config_hash)
    return answer(RunAnswerSerializer, run=run_data(run))


@endpoint(
    get=Operation(
        "Runs across sessions",
        DATA,
        {200: RunListSerializer},
        (400,),
        query=RUNS_QUERY,
        description="Filtered by their sessions' market, exchange, timeframe, strategy, id and "
        "range and by their own status; sorted; keyset-paged: pass next_cursor back as `cursor`.",
    )
)
def runs(request):
    parsed = RUNS_QUERY.parse(request.query_params)
    filters = RunFilters(
        markets=parsed["market"],
        exchanges=parsed["exchange"],
        timeframes=parsed["timeframe"],
        strategies=parsed["strategy"],
        statuses=parsed["status"],
        session_id=parsed["session"],
        range_start=parsed["range_start"],
        range_end=parsed["range_end"],
    )
    sort, descending = parsed["sort"], parsed["descending"]
    page = selectors.run_search(
        filters=filters, sort=sort, descending=descending, limit=parsed["limit"], after=parsed["after"]
    )
    next_cursor = cursor_dumps(page.next_key, list_name="runs", sort=sort, descending=descending)
    return answer(
        RunListSerializer, runs=[run_data(r) for r in page.items], next_cursor=next_cursor, limit=page.limit
    )


@endpoint(
    get=Operation(
        "Summary of a (market, timeframe, range) group",
        DATA,
        {200: RunsSummaryAnswerSerializer},
        (400,),
        query=RUNS_SUMMARY_QUERY,
        description="The summary of a session's runs, over every run of the group's sessions.",
    )
)
def runs_summary(request):
    """The summary of every run of a (market, timeframe, range) group, across sessions."""
    group = RUNS_SUMMARY_QUERY.parse(request.query_params)
    return answer(RunsSummaryAnswerSerializer, summary=selectors.run_group_summary(**group))
