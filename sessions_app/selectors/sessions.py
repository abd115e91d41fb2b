"""Sessions: one by id, the filtered lists of both front ends, the dashboard's lists, events."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db import connection
from django.db.models import CharField, DurationField, ExpressionWrapper, F, QuerySet, Value
from django.db.models.functions import Concat
from django.shortcuts import get_object_or_404

from sessions_app.list_totals import SESSIONS
from sessions_app.models import FINISHED, SORTED_FIELDS, Session, SessionEvent, SessionType, Status
from sessions_app.selectors.paging import (
    Keyset,
    NumberedPage,
    Page,
    PageKey,
    list_page,
    numbered_keyset_page,
    numbered_page,
    offset_page,
)
from sessions_app.selectors.search import text_search

# Fields a list of sessions can be sorted by (a whitelist: the API refuses anything else).
SESSION_SORTS = set(SORTED_FIELDS)
# History's sortable fields; "duration" is stopped_at - started_at, computed in SQL.
HISTORY_SORTS = ("name", "type", "market", "trade_count", "total_pnl", "duration", "created_at")


@dataclass(frozen=True)
class SessionFilters:
    """What a list of sessions is narrowed by; an empty value filters nothing."""

    statuses: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    markets: tuple[str, ...] = ()
    strategies: tuple[str, ...] = ()
    q: str = ""
    created_after: datetime | None = None
    created_before: datetime | None = None


def session_get(*, session_id: str) -> Session:
    """The session (with its creator and origin), or a 404."""
    return get_object_or_404(Session.objects.select_related("created_by", "cloned_from"), pk=session_id)


def session_find(*, session_id: str) -> Session | None:
    """The session, or None when there is none (deleted meanwhile)."""
    return Session.objects.filter(pk=session_id).first()


def session_filter(*, filters: SessionFilters) -> QuerySet[Session]:
    """Sessions matching the list filters (status, type, market, strategy, q, dates)."""
    sessions = Session.objects.all()
    if filters.statuses:
        sessions = _status_filter(sessions, filters.statuses)
    if filters.types:
        sessions = sessions.filter(type__in=filters.types)
    if filters.markets:
        sessions = sessions.filter(market__in=filters.markets)
    if filters.strategies:
        sessions = sessions.filter(strategy__in=filters.strategies)
    if q := filters.q.strip():
        sessions = sessions.filter(text_search(q))
    if filters.created_after is not None:
        sessions = sessions.filter(created_at__gte=filters.created_after)
    if filters.created_before is not None:
        sessions = sessions.filter(created_at__lt=filters.created_before)
    return sessions


def session_keyset(*, sort: str, descending: bool) -> Keyset:
    """A list's order by a SESSION_SORTS field, the id as tie-breaker in the same direction:
    the order of its (field, id) index, read forwards or backwards."""
    return Keyset(model=Session, field=sort, descending=descending)


def _status_filter(sessions: QuerySet[Session], statuses: tuple[str, ...]) -> QuerySet[Session]:
    """status IN (...). Finished sessions are the bulk of a long history, and SQLite plans an
    IN list of several on the status index, one range per value, then sorts every matching
    row; spelled `'' || status` it reads the order's index and filters instead, as MariaDB
    chooses by itself. A single status, or only the few created/running ones, keep the index."""
    if connection.vendor == "sqlite" and len(statuses) > 1 and set(statuses) & set(FINISHED):
        unindexed = Concat(Value(""), "status", output_field=CharField())
        return sessions.alias(status_value=unindexed).filter(status_value__in=statuses)
    return sessions.filter(status__in=statuses)


def session_order(*, sort: str, descending: bool) -> list[str]:
    """order_by terms for a sort field, with a stable tie-breaker (session_keyset's order)."""
    return session_keyset(sort=sort, descending=descending).order_by()


def session_list(
    *,
    filters: SessionFilters,
    sort: str = "created_at",
    descending: bool = True,
    limit: int,
    offset: int = 0,
    after: PageKey | None = None,
) -> Page:
    """One page of filtered, sorted sessions (from `offset`, or after the key of a cursor) with
    the total count and the key the next page starts after."""
    sessions = session_filter(filters=filters).select_related("created_by")
    return list_page(
        sessions,
        keyset=session_keyset(sort=sort, descending=descending),
        limit=limit,
        offset=offset,
        after=after,
        scope=SESSIONS,
    )


def history_page(
    *,
    filters: SessionFilters,
    sort: str,
    descending: bool,
    number: int,
    size: int,
    after: PageKey | None = None,
    before: PageKey | None = None,
) -> NumberedPage:
    """History's page `number`: `sort` one of HISTORY_SORTS, read after the `after` key (the
    page behind Next) or before the `before` key (behind Previous) when given, else by offset.

    Sorting by duration (stopped_at - started_at) is the one order no index holds: it pages
    by offset, finished sessions without a duration last.
    """
    sessions = session_filter(filters=filters)
    if sort != "duration":
        keyset = session_keyset(sort=sort, descending=descending)
        return numbered_keyset_page(
            sessions, keyset=keyset, number=number, size=size, after=after, before=before, scope=SESSIONS
        )
    sessions = sessions.annotate(
        duration_value=ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
    )
    expression = F("duration_value")
    ordered = expression.desc(nulls_last=True) if descending else expression.asc(nulls_last=True)
    return numbered_page(sessions.order_by(ordered, F("pk").asc()), number=number, size=size)


def session_latest(*, session_type: str) -> Session | None:
    """The newest session of a type (the old `/session/test`, `/session/backtest`)."""
    return (
        Session.objects.filter(type=session_type)
        .select_related("created_by")
        .order_by("-created_at", "-pk")
        .first()
    )


def sessions_running(*, limit: int) -> list[Session]:
    """Running sessions, the latest started first."""
    return list(Session.objects.filter(status=Status.RUNNING).order_by("-started_at", "pk")[:limit])


def sessions_created(*, limit: int) -> Page:
    """Sessions waiting to be started, newest first; counted only when there are more."""
    rows = Session.objects.filter(status=Status.CREATED).order_by("-created_at", "pk")
    items = list(rows[:limit])
    total = rows.count() if len(items) == limit else len(items)
    return Page(items=items, total=total, limit=limit, offset=0)


def scrapers_running() -> list[Session]:
    """Running scrapers, the latest started first."""
    return list(
        Session.objects.filter(status=Status.RUNNING, type=SessionType.SCRAPER).order_by("-started_at", "pk")
    )


def session_flags(session_id: str) -> tuple[str, bool]:
    """(status, stop_requested): what a runner checks to know whether to go on. A deleted
    session reads as failed with a stop requested."""
    row = Session.objects.filter(pk=session_id).values("status", "stop_requested").first()
    return (row["status"], row["stop_requested"]) if row else (Status.FAILED, True)


def event_page(*, session: Session, limit: int, offset: int = 0, newest_first: bool = False) -> Page:
    """A page of the session's events, in the order they happened (or the newest first)."""
    order = ("-created_at", "-id") if newest_first else ("created_at", "id")
    events = SessionEvent.objects.filter(session=session).order_by(*order)
    return offset_page(events, limit=limit, offset=offset)
