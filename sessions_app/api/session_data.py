"""What a session has gathered: its metrics, its equity curve, its log and its events.

Top to bottom: the query parameters, the answers, the views.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api.params import Paging, Query
from sessions_app.api.serializers import Page, json_field, serializer_for, shape_field, success
from sessions_app.api.trades import RUN
from sessions_app.api.views import DATA, Operation, answer, endpoint, session_for
from sessions_app.errors import InvalidInput
from sessions_app.representations import EVENT, METRICS, event_data

# --- query --------------------------------------------------------------------------------------

RUN_QUERY = Query(RUN)


@dataclass(frozen=True)
class LogPosition:
    """`tail` (default 200, at most 5,000) or `offset`, read together (both bad ones named at
    once), as selectors.session_logs takes them."""

    def parameters(self) -> list[OpenApiParameter]:
        whole = {"type": "integer", "minimum": 0}
        return [
            OpenApiParameter("tail", whole, description="The last N lines (default 200, at most 5000)."),
            OpenApiParameter(
                "offset",
                whole,
                description="Everything after this byte (the `offset` of the previous answer) instead of a tail.",
            ),
        ]

    def values(self, params: Mapping[str, Any], parsed: dict[str, Any]) -> dict[str, Any]:
        errors = {
            f: ["Must be a whole number."]
            for f in ("tail", "offset")
            if params.get(f, "0") and not params.get(f, "0").isdecimal()
        }
        if errors:
            raise InvalidInput.from_errors(errors)
        return {
            "tail": min(int(params.get("tail") or 200), 5000),
            "offset": int(params["offset"]) if params.get("offset") else None,
        }


LOGS_QUERY = Query(LogPosition())
EVENTS_QUERY = Query(Paging())

# --- answers ------------------------------------------------------------------------------------

EQUITY_CURVE = {
    "type": "array",
    "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "description": "[[Unix seconds, equity], ...], downsampled to about 2,000 points.",
}
EquityField = json_field("EquityField", EQUITY_CURVE)


class MetricsAnswerSerializer(serializers.Serializer):
    success = success(True)
    metrics = shape_field(METRICS)
    config_hash = serializers.CharField(allow_null=True)


class EquityAnswerSerializer(serializers.Serializer):
    success = success(True)
    equity = EquityField()
    currency = serializers.CharField()
    config_hash = serializers.CharField(allow_null=True)


class LogsAnswerSerializer(serializers.Serializer):
    success = success(True)
    lines = serializers.ListField(child=serializers.CharField(allow_blank=True))
    offset = serializers.IntegerField(help_text="Pass it back as ?offset= to get what follows.")
    size = serializers.IntegerField(help_text="The log's size in bytes.")


class EventPageSerializer(Page):
    events = serializer_for(EVENT)(many=True)


# --- views --------------------------------------------------------------------------------------


@endpoint(get=Operation("A session's metrics", DATA, {200: MetricsAnswerSerializer}, (404,), query=RUN_QUERY))
def session_metrics(request, session_id: str):
    session = session_for(session_id)
    run = selectors.run_for(session=session, config_hash=RUN_QUERY.parse(request.query_params)["run"])
    return answer(
        MetricsAnswerSerializer,
        metrics=selectors.session_metrics(session, run),
        config_hash=run.config_hash if run else None,
    )


@endpoint(
    get=Operation("A session's equity curve", DATA, {200: EquityAnswerSerializer}, (404,), query=RUN_QUERY)
)
def session_equity(request, session_id: str):
    session = session_for(session_id)
    run = selectors.run_for(session=session, config_hash=RUN_QUERY.parse(request.query_params)["run"])
    return answer(
        EquityAnswerSerializer,
        equity=selectors.session_equity(session, run),
        currency=selectors.session_currency(session),
        config_hash=run.config_hash if run else None,
    )


@endpoint(get=Operation("A session's log", DATA, {200: LogsAnswerSerializer}, (400, 404), query=LOGS_QUERY))
def session_logs(request, session_id: str):
    """`?tail=N` lines (default 200), or `?offset=BYTES` to follow from where the last call ended."""
    session = session_for(session_id)
    return answer(
        LogsAnswerSerializer, **selectors.session_logs(session, **LOGS_QUERY.parse(request.query_params))
    )


@endpoint(
    get=Operation("A session's events", DATA, {200: EventPageSerializer}, (400, 404), query=EVENTS_QUERY)
)
def session_events(request, session_id: str):
    session = session_for(session_id)
    paging = EVENTS_QUERY.parse(request.query_params)
    page = selectors.event_page(session=session, limit=paging["limit"], offset=paging["offset"])
    return answer(
        EventPageSerializer,
        events=[event_data(e) for e in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )
