"""The JSON API under /api/. Thin: parse the request, call a selector or service, wrap the answer."""

from __future__ import annotations

from functools import wraps
from typing import TYPE_CHECKING

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.response import Response

from sessions_app import selectors, services
from sessions_app.api import params
from sessions_app.api.docs import operations
from sessions_app.api.permissions import CanOperateOrReadOnly
from sessions_app.api.renderers import FastJSONRenderer
from sessions_app.api.trades_csv import trades_csv_response
from sessions_app.errors import InvalidInput
from sessions_app.representations import (
    event_data,
    market_data,
    run_data,
    run_session_data,
    session_data,
    strategy_data,
    trade_data,
)
from sessions_app.selectors.cursors import cursor_dumps

if TYPE_CHECKING:
    from sessions_app.models import Run, Session


def endpoint(*methods: str, renderers: list | None = None):
    """A DRF function view: token or session auth (not the login redirect), reads for all
    logged-in users, writes for operators; `renderers` instead of the settings' JSONRenderer."""

    def decorate(view):
        inner = permission_classes([CanOperateOrReadOnly])(view)
        if renderers is not None:
            inner = renderer_classes(renderers)(inner)
        wrapped = _releasing(api_view(list(methods))(inner))
        wrapped = extend_schema(description=(view.__doc__ or "").strip())(wrapped)
        # Its parameters, body and answers, declared in docs.py under the view's name.
        for declaration in operations(view.__name__):
            wrapped = declaration(wrapped)
        return login_not_required(wraps(view)(wrapped))

    return decorate


def _releasing(drf_view):
    """The DRF view, whose answer is freed as its request ends. DRF leaves it in cycles: the
    view instance keeps it (`self.response`), its renderer_context keeps the view and, once
    rendered, the answer itself. So every answer (a chart's thousands of rows) waited for a
    full collection, which then freed those of ten requests at once, in one of them (~10 ms).
    The attributes Django, DRF and the schema read (`cls`, `initkwargs`, `csrf_exempt`) are
    the DRF view's."""

    @wraps(drf_view)
    def view(request, *args, **kwargs):
        response = drf_view(request, *args, **kwargs)
        if hasattr(response, "add_post_render_callback"):
            response.add_post_render_callback(_uncycle)
        return response

    return view


def _uncycle(response) -> None:
    """After rendering, what kept the answer in a cycle (see _releasing) lets go of it."""
    context = getattr(response, "renderer_context", None) or {}
    if context.get("response") is response:
        del context["response"]
    instance = context.get("view")
    if instance is not None and instance.__dict__.get("response") is response:
        del instance.response


def ok(status_code: int = status.HTTP_200_OK, **body) -> Response:
    return Response({"success": True, **body}, status=status_code)


def request_body(request) -> dict:
    if not isinstance(request.data, dict):
        raise InvalidInput.from_errors({"body": ["Must be a JSON object."]})
    return dict(request.data.items())


def _session(session_id: str) -> Session:
    services.sessions_reap_lazily()
    return selectors.session_get(session_id=session_id)


def session_answer(session: Session) -> Response:
    return ok(session=session_object(session))


def session_object(session: Session) -> dict:
    """A session as the API answers it: its columns, live progress and runs' summary."""
    return session_data(session, selectors.session_progress(session), selectors.session_summary(session))


# --- sessions ---------------------------------------------------------------------------------


@endpoint("GET", "POST")
def sessions(request):
    if request.method == "POST":
        session = services.session_create(user=request.user, data=request_body(request))
        return ok(status.HTTP_201_CREATED, session=session_object(session))
    services.sessions_reap_lazily()
    query = params.session_list_query(request.query_params)
    page = selectors.session_list(**query)
    progress = selectors.session_progress_many(page.items)
    summaries = selectors.session_summaries(page.items)
    return ok(
        sessions=[session_data(s, progress[s.pk], summaries[s.pk]) for s in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(
            page.next_key, list_name="sessions", sort=query["sort"], descending=query["descending"]
        ),
    )


@endpoint("GET", "PATCH", "DELETE")
def session_detail(request, session_id: str):
    session = _session(session_id)
    if request.method == "PATCH":
        session = services.session_update(session=session, data=request_body(request))
    elif request.method == "DELETE":
        services.session_delete(session=session)
        return ok(deleted=session_id)
    return session_answer(session)


@endpoint("POST")
def session_start(request, session_id: str):
    return session_answer(services.session_start(session=_session(session_id)))


@endpoint("POST")
def session_stop(request, session_id: str):
    return session_answer(services.session_stop(session=_session(session_id)))


@endpoint("POST")
def session_clone(request, session_id: str):
    clone = services.session_clone(
        session=_session(session_id), user=request.user, data=request_body(request)
    )
    return ok(status.HTTP_201_CREATED, session=session_object(clone))


# --- session data -----------------------------------------------------------------------------


def _run_or_best(session: Session, config_hash: str | None) -> Run | None:
    return selectors.run_for(session=session, config_hash=config_hash)


def _trades_page(request, run: Run | None) -> Response:
    page = selectors.trade_page(run=run, **params.trade_page_query(request.query_params))
    return ok(
        trades=[trade_data(t) for t in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(page.next_key, list_name="trades", sort="entry_time", descending=False),
        config_hash=run.config_hash if run else None,
    )


@endpoint("GET")
def session_trades(request, session_id: str):
    """A page of the best (or `run=<hash>`) run's trades; `format=csv` streams every trade of
    every run (or of `run`) with a config_hash column."""
    session = _session(session_id)
    answer_format = request.query_params.get("format") or "json"
    if answer_format not in ("json", "csv"):
        raise InvalidInput.from_errors({"format": [f"Must be json or csv (got {answer_format!r})."]})
    if answer_format == "csv":
        runs = selectors.session_export_runs(session=session, config_hash=request.query_params.get("run"))
        return trades_csv_response(session, runs)
    return _trades_page(request, _run_or_best(session, request.query_params.get("run")))


@endpoint("GET")
def session_metrics(request, session_id: str):
    session = _session(session_id)
    run = _run_or_best(session, request.query_params.get("run"))
    return ok(metrics=selectors.session_metrics(session, run), config_hash=run.config_hash if run else None)


@endpoint("GET")
def session_equity(request, session_id: str):
    session = _session(session_id)
    run = _run_or_best(session, request.query_params.get("run"))
    return ok(
        equity=selectors.session_equity(session, run),
        currency=selectors.session_currency(session),
        config_hash=run.config_hash if run else None,
    )


@endpoint("GET", renderers=[FastJSONRenderer])
def session_chart(request, session_id: str):
    """A window of the session's price as OHLC candles aggregated to at most `max_points`, every
    trade of the run in it as entry/exit markers, and the run's equity in it (SPEC §17)."""
    session = _session(session_id)
    window = params.chart_query(request.query_params)
    run = _run_or_best(session, request.query_params.get("run"))
    return ok(**selectors.session_chart(session=session, run=run, window=window))


@endpoint("GET")
def session_logs(request, session_id: str):
    """`?tail=N` lines (default 200), or `?offset=BYTES` to follow from where the last call ended."""
    session = _session(session_id)
    return ok(**selectors.session_logs(session, **params.log_query(request.query_params)))


@endpoint("GET")
def session_events(request, session_id: str):
    session = _session(session_id)
    limit, offset = params.parse_paging(request.query_params)
    page = selectors.event_page(session=session, limit=limit, offset=offset)
    return ok(
        events=[event_data(e) for e in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@endpoint("GET")
def session_runs(request, session_id: str):
    session = _session(session_id)
    query = params.run_list_query(request.query_params)
    page = selectors.run_list(session=session, **query)
    return ok(
        runs=[run_data(r) for r in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
        next_cursor=cursor_dumps(
            page.next_key, list_name="session-runs", sort=query["sort"], descending=query["descending"]
        ),
    )


@endpoint("GET")
def session_run(request, session_id: str, config_hash: str):
    run = selectors.run_get(session_id=session_id, config_hash=config_hash)
    return ok(run=run_data(run))


@endpoint("GET")
def session_run_trades(request, session_id: str, config_hash: str):
    run = selectors.run_get(session_id=session_id, config_hash=config_hash)
    return _trades_page(request, run)


@endpoint("GET")
def compare(request):
    """2 to 8 runs of any sessions side by side, in the order asked, with their equity curves."""
    compared = selectors.compare_runs(**params.compare_query(request.query_params))
    return ok(
        runs=[{**run_data(c.run), "session": run_session_data(c.session)} for c in compared],
        equity={str(c.run.pk): c.equity for c in compared},
    )


# --- runs across sessions ---------------------------------------------------------------------


@endpoint("GET")
def runs(request):
    """Runs of every session, filtered and sorted, a keyset page at a time (`cursor`)."""
    query = params.runs_query(request.query_params)
    page = selectors.run_search(**query)
    next_cursor = cursor_dumps(
        page.next_key, list_name="runs", sort=query["sort"], descending=query["descending"]
    )
    return ok(runs=[run_data(r) for r in page.items], next_cursor=next_cursor, limit=page.limit)


@endpoint("GET")
def runs_summary(request):
    """Seed 2's summary of every run of a (market, timeframe, range) group, across sessions."""
    return ok(summary=selectors.run_group_summary(**params.runs_summary_query(request.query_params)))


# --- reference data ---------------------------------------------------------------------------


@endpoint("GET")
def strategies(request):
    items = selectors.strategy_list(session_type=request.query_params.get("type"))
    return ok(strategies=[strategy_data(s) for s in items], total=len(items))


@endpoint("GET")
def strategy_detail(request, strategy_id: str):
    return ok(strategy=strategy_data(selectors.strategy_get(strategy_id=strategy_id)))


@endpoint("GET")
def markets(request):
    items = selectors.market_list(exchange=request.query_params.get("exchange"))
    return ok(markets=[market_data(m) for m in items], total=len(items))
