"""Sessions: the list, one session, its creation, change, deletion, start, stop and clone.

Top to bottom: the list's query parameters, the bodies and answers, the views.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework import serializers, status

from sessions_app import selectors, services
from sessions_app.api import params
from sessions_app.api.params import Cursor, Paging, Query, Sort
from sessions_app.api.serializers import (
    KeysetPage,
    NullableObjectField,
    json_field,
    serializer_for,
    success,
)
from sessions_app.api.views import SESSIONS, Operation, answer, endpoint, request_body, session_for
from sessions_app.models import SessionType, Status
from sessions_app.representations import (
    EXCHANGE_CHOICES,
    SESSION,
    SESSION_TYPES,
    SIZINGS,
    SWEEP,
    TIMEFRAME_CHOICES,
    UNIX,
    session_data,
)
from sessions_app.selectors import SESSION_SORTS, SessionFilters, cursor_dumps, session_keyset

if TYPE_CHECKING:
    from sessions_app.models import Session

# --- query --------------------------------------------------------------------------------------

LIST_QUERY = Query(
    params.choices("status", Status.values, "Comma list of statuses."),
    params.choices("type", SessionType.values, "Comma list of session types."),
    params.names("market", "Comma list of markets (XBTUSD, XBTUSD+ETHUSD, ...)."),
    params.names("strategy", "Comma list of strategy ids."),
    params.text(
        "q",
        "Words of the names and notes, through a full-text index: every word must "
        "match a word or the start of one, in any case.",
    ),
    params.created_time("created_after", "Unix seconds or an ISO 8601 time; inclusive."),
    params.created_time("created_before", "Unix seconds or an ISO 8601 time; exclusive."),
    Sort(SESSION_SORTS, "created_at:desc", "field or field:asc|desc; default created_at:desc."),
    Paging(),
    Cursor("sessions", session_keyset),
)

# --- bodies -------------------------------------------------------------------------------------

SweepField = json_field("SweepField", SWEEP.openapi)


def _text(max_length: int, help_text: str = "") -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=max_length, help_text=help_text
    )


# The account's fields, the same in a creation, a change and a clone.
def _leverage(default: str = "default 1") -> serializers.FloatField:
    return serializers.FloatField(
        required=False, allow_null=True, help_text=f"1 to the markets' max_leverage; {default}."
    )


def _sizing(default: str = 'default "units"') -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=SIZINGS,
        required=False,
        allow_null=True,
        help_text='What position_size means: "units", "equity" (a fraction in (0, 1] of the margin '
        f'available) or "notional" (a value in the quote currency); {default}.',
    )


def _maintenance_margin_pct(default: str = "default null: each market's own") -> serializers.FloatField:
    return serializers.FloatField(
        required=False, allow_null=True, help_text=f"0 to 100 (percent); {default}."
    )


def _funding(default: str = "default null: paid where the market is a perpetual") -> serializers.BooleanField:
    return serializers.BooleanField(
        required=False, allow_null=True, help_text=f"Funding on or off; {default}."
    )


class SessionUpdateSerializer(serializers.Serializer):
    """Name, notes and notify_url always; the configuration only while the session is created."""

    type = serializers.ChoiceField(choices=SESSION_TYPES, required=False)
    market = serializers.CharField(
        required=False, help_text="An active market of `exchange`, or legs joined by +."
    )
    strategy = serializers.CharField(
        required=False, help_text="A strategy id; a new one drops the old params."
    )
    exchange = serializers.ChoiceField(
        choices=EXCHANGE_CHOICES, required=False, allow_null=True, help_text="Default: the server's."
    )
    strategy_params = NullableObjectField(required=False, help_text="Default: the strategy's defaults.")
    timeframe = serializers.ChoiceField(
        choices=TIMEFRAME_CHOICES, required=False, allow_null=True, help_text="Default 1m."
    )
    initial_balance = serializers.FloatField(
        required=False, allow_null=True, help_text="Greater than 0; default 1 (XBT/BTC settled) or 10000."
    )
    fee_bps = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1000; default 7.5.")
    slippage_bps = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1000; default 0.")
    range_start = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text=f"Required for a backtest ({UNIX})."
    )
    range_end = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text=f"Required for a backtest ({UNIX}); after range_start, not in the future.",
    )
    sweep = SweepField(required=False)
    reuse = serializers.BooleanField(
        required=False, allow_null=True, help_text="Default true: copy identical completed runs."
    )
    leverage = _leverage()
    sizing = _sizing()
    maintenance_margin_pct = _maintenance_margin_pct()
    funding = _funding()
    name = _text(255, 'Generated ("BTC Test #3") when missing.')
    notes = _text(10_000)
    notify_url = _text(500, "Where to POST when the session ends; http or https.")


class SessionCreateSerializer(SessionUpdateSerializer):
    """A new session: type, market and strategy; everything else has a default."""

    # Redeclared as required; they keep their place at the top.
    type = serializers.ChoiceField(choices=SESSION_TYPES)
    market = serializers.CharField(help_text="An active market of `exchange`, or legs joined by +.")
    strategy = serializers.CharField(help_text="A strategy id that runs `type` sessions.")


class SessionCloneSerializer(serializers.Serializer):
    name = _text(255, 'Default: "Clone of <name>".')
    notes = _text(10_000, "Default: the source's.")
    notify_url = _text(500, "Default: the source's.")
    strategy_params = NullableObjectField(required=False, help_text="Merged over the source's params.")
    reuse = serializers.BooleanField(required=False, allow_null=True, help_text="Default: the source's.")
    leverage = _leverage("default: the source's")
    sizing = _sizing("default: the source's")
    maintenance_margin_pct = _maintenance_margin_pct("default: the source's")
    funding = _funding("default: the source's")


# --- answers ------------------------------------------------------------------------------------

SessionSerializer = serializer_for(SESSION)


class SessionListSerializer(KeysetPage):
    sessions = SessionSerializer(many=True)


class SessionAnswerSerializer(serializers.Serializer):
    success = success(True)
    session = SessionSerializer()


class SessionDeletedSerializer(serializers.Serializer):
    success = success(True)
    deleted = serializers.CharField(help_text="The id of the deleted session.")


SESSION_ANSWER = {200: SessionAnswerSerializer}


def session_object(session: Session) -> dict:
    """A session as the API answers it: its columns, live progress and runs' summary."""
    return session_data(session, selectors.session_progress(session), selectors.session_summary(session))


def session_answer(session: Session, status_code: int = status.HTTP_200_OK):
    return answer(SessionAnswerSerializer, status_code, session=session_object(session))


# --- views --------------------------------------------------------------------------------------

LIST = Operation("List sessions", SESSIONS, {200: SessionListSerializer}, (400,), query=LIST_QUERY)
CREATE = Operation(
    "Create a session",
    SESSIONS,
    {201: SessionAnswerSerializer},
    (400, 403),
    body=SessionCreateSerializer,
    description="A new `created` session with its run(s); every bad field is named at once.",
)


@endpoint(get=LIST, post=CREATE)
def sessions(request):
    if request.method == "POST":
        session = services.session_create(user=request.user, data=request_body(request))
        return session_answer(session, status.HTTP_201_CREATED)
    services.sessions_reap_lazily()
    query = LIST_QUERY.parse(request.query_params)
    filters = SessionFilters(
        statuses=query["status"],
        types=query["type"],
        markets=query["market"],
        strategies=query["strategy"],
        q=query["q"] or "",
        created_after=query["created_after"],
        created_before=query["created_before"],
    )
    sort, descending = query["sort"], query["descending"]
    page = selectors.session_list(
        filters=filters,
        sort=sort,
        descending=descending,
        limit=query["limit"],
        offset=query["offset"],
        after=query["after"],
    )
    progress = selectors.session_progress_many(page.items)
    summaries = selectors.session_summaries(page.items)
    return answer(
        SessionListSerializer,
        sessions=[session_data(s, progress[s.pk], summaries[s.pk]) for s in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(page.next_key, list_name="sessions", sort=sort, descending=descending),
    )


DETAIL = Operation("A session", SESSIONS, SESSION_ANSWER, (404,))
CHANGE = Operation(
    "Change a session",
    SESSIONS,
    SESSION_ANSWER,
    (400, 403, 404, 409),
    body=SessionUpdateSerializer,
    description="Name, notes and notify_url always; the configuration only while `created` (else 409).",
)
DELETE = Operation(
    "Delete a session",
    SESSIONS,
    {200: SessionDeletedSerializer},
    (403, 404, 409),
    description="With its runs, trades, events and files; refused while running.",
)


@endpoint(get=DETAIL, patch=CHANGE, delete=DELETE)
def session_detail(request, session_id: str):
    session = session_for(session_id)
    if request.method == "PATCH":
        session = services.session_update(session=session, data=request_body(request))
    elif request.method == "DELETE":
        services.session_delete(session=session)
        return answer(SessionDeletedSerializer, deleted=session_id)
    return session_answer(session)


@endpoint(
    post=Operation(
        "Start a session",
        SESSIONS,
        SESSION_ANSWER,
        (403, 404, 409),
        description="`created` -> `running` under the type's running limit; a worker picks it up.",
    )
)
def session_start(request, session_id: str):
    return session_answer(services.session_start(session=session_for(session_id)))


@endpoint(
    post=Operation(
        "Stop a session",
        SESSIONS,
        SESSION_ANSWER,
        (403, 404, 409),
        description="The runner saves what it has and marks it `stopped`; an unclaimed one stops at once.",
    )
)
def session_stop(request, session_id: str):
    return session_answer(services.session_stop(session=session_for(session_id)))


@endpoint(
    post=Operation(
        "Clone a session",
        SESSIONS,
        {201: SessionAnswerSerializer},
        (400, 403, 404),
        body=SessionCloneSerializer,
        description="A new `created` session with the source's configuration.",
    )
)
def session_clone(request, session_id: str):
    clone = services.session_clone(
        session=session_for(session_id), user=request.user, data=request_body(request)
    )
    return session_answer(clone, status.HTTP_201_CREATED)
