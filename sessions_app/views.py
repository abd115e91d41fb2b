"""The HTML dashboard (SPEC §9): Running Sessions, Scrapers, History, the create/edit modal
and the detail view. Thin: read through selectors, act through services, render.

Every page needs login (LoginRequiredMiddleware). Acting needs the operate permission, checked
here in each view; viewers get 403. HTMX requests get small `_partial.html` templates; the same
URLs answer plain browser requests with full pages (or a redirect after a POST).
"""

from __future__ import annotations

import json
import logging
import math
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.db.models import DurationField, ExpressionWrapper, F
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST
from django.views.decorators.vary import vary_on_headers

from sessions_app import selectors, services
from sessions_app.errors import Conflict, InvalidInput, ServiceError
from sessions_app.forms import SessionForm
from sessions_app.models import FINISHED, Run, Session, SessionType, Status
from strategies_app.market_data import archive_day_paths, archive_last_time, chart_closes
from strategies_app.models import Market, Strategy

log = logging.getLogger(__name__)

OPERATE = "sessions_app.operate_session"
CHANGED = "sessionsChanged"  # the HX-Trigger event every list refreshes on
HISTORY_PAGE_SIZE = 20
TRADES_PAGE_SIZE = 25
RUNS_PAGE_SIZE = 50
CREATED_SHOWN = 50
RUNNING_SHOWN = 200
PERIODS = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "all": ("All time", None),
}
DEFAULT_PERIOD = "7d"
# History's sortable columns -> order_by expressions (a whitelist: nothing else is accepted).
HISTORY_SORTS = {
    "name": "name",
    "type": "type",
    "market": "market",
    "trades": "trade_count",
    "pnl": "total_pnl",
    "duration": "duration",
    "created": "created_at",
}


# --- helpers ----------------------------------------------------------------------------------


def can_operate(request: HttpRequest) -> bool:
    return request.user.has_perm(OPERATE)


def operate_required(view):
    """POST only, and only for users with the operate permission (403 otherwise)."""

    @require_POST
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_operate(request):
            return HttpResponseForbidden("You may look but not act: the operate permission is needed.")
        return view(request, *args, **kwargs)

    return wrapped


def is_partial(request: HttpRequest) -> bool:
    """An HTMX swap of part of a page (not a boosted link, not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def _trigger(response: HttpResponse, **events: Any) -> HttpResponse:
    response["HX-Trigger"] = json.dumps(events)
    return response


def _notify(message: str, level: str = "success") -> dict[str, str]:
    return {"message": message, "level": level}


def _back(request: HttpRequest, default: str = "/") -> str:
    target = request.POST.get("next") or request.headers.get("Referer") or default
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return default


def _done(
    request: HttpRequest,
    message: str,
    *,
    level: str = "success",
    status: int = 204,
    extra: dict | None = None,
) -> HttpResponse:
    """The answer to an action: HX-Trigger (list refresh + toast) for HTMX, else a redirect."""
    if request.htmx:
        response = HttpResponse(status=status)
        events: dict[str, Any] = {"notify": _notify(message, level)}
        if status < 400:
            events[CHANGED] = True
        events.update(extra or {})
        return _trigger(response, **events)
    getattr(messages, level if level in ("success", "error", "warning") else "info")(request, message)
    return redirect(_back(request))


def _refused(request: HttpRequest, error: ServiceError) -> HttpResponse:
    return _done(request, error.message, level="error", status=error.status)


def _session_or_404(session_id: str) -> Session:
    return get_object_or_404(Session, pk=session_id)


def _settle_currencies() -> dict[tuple[str, str], str]:
    return {(e, s): c for e, s, c in Market.objects.values_list("exchange", "symbol", "settle")}


def _currency(session: Session, currencies: dict[tuple[str, str], str]) -> str:
    return currencies.get((session.exchange, session.market_legs[0]), "USD")


def _rows(sessions: list[Session]) -> list[dict[str, Any]]:
    """Each session with its live progress and currency, as the row templates want them."""
    progress = selectors.session_progress_many(sessions)
    currencies = _settle_currencies() if sessions else {}
    rows = []
    for session in sessions:
        p = dict(progress.get(session.pk) or {})
        currency = p.get("currency") or _currency(session, currencies)
        win_rate = p.get("win_rate")
        rows.append(
            {
                "s": session,
                "p": p,
                "currency": currency,
                "trades": p.get("trade_count", session.trade_count),
                "pnl": p.get("total_pnl", float(session.total_pnl)),
                "win_rate": win_rate if win_rate is not None else float(session.win_rate),
                "waiting": session.status == Status.RUNNING and not session.worker,
                "archive_paths": _archive_paths(session) if session.type == SessionType.SCRAPER else [],
            }
        )
    return rows


def _archive_paths(session: Session) -> list[str]:
    return archive_day_paths(
        exchange=session.exchange, symbols=session.market_legs, day=timezone.now().date()
    )


def base_context(request: HttpRequest, tab: str) -> dict[str, Any]:
    return {"tab": tab, "can_operate": can_operate(request)}


# --- Running Sessions ---------------------------------------------------------------------------


def _running_context(request: HttpRequest) -> dict[str, Any]:
    services.sessions_reap_lazily()
    running = list(
        Session.objects.filter(status=Status.RUNNING).order_by("-started_at", "pk")[:RUNNING_SHOWN]
    )
    created_qs = Session.objects.filter(status=Status.CREATED).order_by("-created_at", "pk")
    created = list(created_qs[:CREATED_SHOWN])
    created_total = created_qs.count() if len(created) == CREATED_SHOWN else len(created)
    return {
        **base_context(request, "running"),
        "running_rows": _rows(running),
        "running_total": len(running),
        "created_rows": _rows(created),
        "created_total": created_total,
        "created_more": created_total - len(created),
    }


@require_GET
@vary_on_headers("HX-Request")
def running(request):
    context = _running_context(request)
    if is_partial(request):
        return render(request, "sessions/_running_list.html", context)
    return render(request, "sessions/running.html", context)


@require_GET
def session_row(request, session_id: str):
    """One row, polled every 2 s while its session runs; a finished one comes back without
    the trigger and tells the lists to refresh (it moves to History)."""
    view = request.GET.get("view") if request.GET.get("view") in ("running", "scraper") else "running"
    session = Session.objects.filter(pk=session_id).first()
    if session is None:
        if request.htmx:  # deleted meanwhile: the row goes away
            return _trigger(HttpResponse(""), **{CHANGED: True})
        raise Http404("No such session.")
    context = {"row": _rows([session])[0], "can_operate": can_operate(request), "view": view}
    response = render(request, "sessions/_session_row.html", context)
    if request.htmx and session.status != Status.RUNNING and request.GET.get("was") == "running":
        _trigger(response, **{CHANGED: True})
    return response


# --- Scrapers -----------------------------------------------------------------------------------


def _scrapers_context(request: HttpRequest) -> dict[str, Any]:
    services.sessions_reap_lazily()
    active = list(
        Session.objects.filter(status=Status.RUNNING, type=SessionType.SCRAPER).order_by("-started_at", "pk")
    )
    exchange = settings.DEFAULT_EXCHANGE
    scraping = {leg for s in active if s.exchange == exchange for leg in s.market_legs}
    available = []
    for market in Market.objects.filter(exchange=exchange, active=True).order_by("symbol"):
        if market.symbol in scraping:
            continue
        available.append(
            {"market": market, "last_time": archive_last_time(exchange=exchange, symbol=market.symbol)}
        )
    return {
        **base_context(request, "scrapers"),
        "scraper_rows": _rows(active),
        "available": available,
        "exchange": exchange,
    }


@require_GET
@vary_on_headers("HX-Request")
def scrapers(request):
    context = _scrapers_context(request)
    if is_partial(request):
        return render(request, "sessions/_scrapers.html", context)
    return render(request, "sessions/scrapers.html", context)


@operate_required
def scraper_start(request):
    """Start Scraping: one click creates a MarketScraper session for the market and starts it."""
    market = request.POST.get("market", "")
    try:
        session = services.scraper_start(user=request.user, market=market)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Scraping {market}: {session.name} started.")


# --- History ------------------------------------------------------------------------------------


def _history_params(query: QueryDict) -> dict[str, str]:
    """The filters of the URL, each checked against its whitelist (unknown values drop out)."""
    types = SessionType.values
    statuses = [str(s) for s in FINISHED]
    sort = query.get("sort", "")
    return {
        "type": query.get("type") if query.get("type") in types else "",
        "market": (query.get("market") or "").strip()[:41],
        "status": query.get("status") if query.get("status") in statuses else "",
        "period": query.get("period") if query.get("period") in PERIODS else DEFAULT_PERIOD,
        "q": (query.get("q") or "").strip()[:200],
        "sort": sort if sort in HISTORY_SORTS else "created",
        "dir": "asc" if query.get("dir") == "asc" else "desc",
    }


def _page_number(query: QueryDict) -> int:
    raw = query.get("page") or "1"
    return int(raw) if raw.isdigit() and int(raw) >= 1 else 1


def _querystring(params: dict[str, Any], **changes: Any) -> str:
    merged = {**params, **changes}
    query = QueryDict(mutable=True)
    for key, value in merged.items():
        if value not in ("", None):
            query[key] = value
    return query.urlencode()


def _page_links(page: int, pages: int) -> list[int | None]:
    """1 … 4 5 [6] 7 8 … 20: None is a gap."""
    wanted = {1, pages, *range(page - 2, page + 3)}
    numbers = sorted(n for n in wanted if 1 <= n <= pages)
    links: list[int | None] = []
    for n in numbers:
        if links and n - (links[-1] or 0) > 1:
            links.append(None)
        links.append(n)
    return links


def _history_context(request: HttpRequest) -> dict[str, Any]:
    params = _history_params(request.GET)
    page = _page_number(request.GET)
    selector_params = {
        "status": params["status"] or ",".join(str(s) for s in FINISHED),
        "type": params["type"],
        "market": params["market"],
        "q": params["q"],
    }
    since = PERIODS[params["period"]][1]
    if since is not None:
        selector_params["created_after"] = (timezone.now() - since).isoformat()
    try:
        sessions = selectors.session_filter(selector_params)
    except InvalidInput:
        sessions = Session.objects.none()
    total = sessions.count()
    pages = max(1, math.ceil(total / HISTORY_PAGE_SIZE))
    page = min(page, pages)
    field = HISTORY_SORTS[params["sort"]]
    if field == "duration":
        sessions = sessions.annotate(
            duration_value=ExpressionWrapper(F("stopped_at") - F("started_at"), output_field=DurationField())
        )
        expression = F("duration_value")
    else:
        expression = F(field)
    # Only duration can be NULL; "IS NULL" in ORDER BY would keep MariaDB from reading the
    # order from an index. The ascending tie-breaker matches InnoDB's indexes (see selectors).
    nulls = {"nulls_last": True} if field == "duration" else {}
    if params["dir"] == "desc":
        order = [expression.desc(**nulls), F("pk").asc()]
    else:
        order = [expression.asc(**nulls), F("pk").asc()]
    offset = (page - 1) * HISTORY_PAGE_SIZE
    items = list(sessions.order_by(*order)[offset : offset + HISTORY_PAGE_SIZE]) if total else []

    columns = []
    for key, label in (
        ("name", "Name"),
        ("type", "Type"),
        ("market", "Market"),
        ("trades", "Trades"),
        ("pnl", "PnL"),
        ("duration", "Duration"),
    ):
        active = params["sort"] == key
        next_dir = "asc" if active and params["dir"] == "desc" else "desc"
        if not active and key in ("name", "type", "market"):
            next_dir = "asc"
        columns.append(
            {
                "key": key,
                "label": label,
                "active": active,
                "dir": params["dir"] if active else "",
                "query": _querystring(params, sort=key, dir=next_dir),
                "numeric": key in ("trades", "pnl", "duration"),
            }
        )
    market_choices = sorted(
        set(Market.objects.filter(active=True).values_list("symbol", flat=True))
        | {m for s in Strategy.objects.all() for m in s.supported_markets if "+" in m}
    )
    return {
        **base_context(request, "history"),
        "rows": _rows(items),
        "params": params,
        "total": total,
        "page": page,
        "pages": pages,
        "first": offset + 1 if total else 0,
        "last": offset + len(items),
        "page_links": [
            {"number": n, "query": _querystring(params, page=n) if n else ""}
            for n in _page_links(page, pages)
        ],
        "prev_query": _querystring(params, page=page - 1) if page > 1 else None,
        "next_query": _querystring(params, page=page + 1) if page < pages else None,
        "columns": columns,
        "type_choices": SessionType.choices,
        "status_choices": [(str(s), str(s).title()) for s in FINISHED],
        "market_choices": market_choices,
        "period_choices": [(key, label) for key, (label, _) in PERIODS.items()],
    }


@require_GET
@vary_on_headers("HX-Request")
def history(request):
    context = _history_context(request)
    if is_partial(request):
        return render(request, "sessions/_history_table.html", context)
    return render(request, "sessions/history.html", context)


# --- create / edit modal ------------------------------------------------------------------------


def _form_response(request, form: SessionForm, *, status: int = 200) -> HttpResponse:
    context = {"form": form, "can_operate": can_operate(request), "tab": ""}
    if form.session is not None:
        context["action"] = reverse("session_edit", args=[form.session.pk])
    else:
        context["action"] = reverse("session_new")
    template = "sessions/_session_form.html" if request.htmx else "sessions/session_form_page.html"
    return render(request, template, context, status=status)


def _start_after_save(request, session: Session, verb: str) -> HttpResponse:
    if request.POST.get("action") == "start":
        try:
            session = services.session_start(session=session)
        except Conflict as error:
            return _done(
                request,
                f"{verb} {session.name}, but it could not start: {error.message}",
                level="warning",
                extra={"closeModal": True, CHANGED: True},
            )
        return _done(request, f"{verb} and started {session.name}.", extra={"closeModal": True})
    return _done(request, f"{verb} {session.name}.", extra={"closeModal": True})


def session_new(request):
    """GET: the modal's form (re-rendered on type/strategy change); POST: create (& start)."""
    if request.method == "POST":
        if not can_operate(request):
            return HttpResponseForbidden("You may look but not act: the operate permission is needed.")
        form = SessionForm(request.POST)
        data = form.service_data()
        if not form.has_errors:
            try:
                session = services.session_create(user=request.user, data=data)
            except InvalidInput as error:
                form.add_service_errors(error.errors, error.message)
            else:
                return _start_after_save(request, session, "Created")
        return _form_response(request, form, status=422)
    if request.method != "GET":
        return HttpResponse(status=405)
    if not can_operate(request):
        return HttpResponseForbidden("You may look but not act: the operate permission is needed.")
    return _form_response(request, SessionForm(request.GET or None))


def session_edit(request, session_id: str):
    """Edit a created session in the same modal (services.session_update)."""
    session = _session_or_404(session_id)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    if not can_operate(request):
        return HttpResponseForbidden("You may look but not act: the operate permission is needed.")
    if session.status != Status.CREATED:
        return _refused(
            request, Conflict(f"Only a created session can be edited; this one is {session.status}.")
        )
    if request.method == "POST":
        form = SessionForm(request.POST, session=session)
        data = form.service_data()
        if not form.has_errors:
            try:
                session = services.session_update(session=session, data=data)
            except ServiceError as error:
                form.add_service_errors(error.errors, error.message)
            else:
                return _start_after_save(request, session, "Saved")
        return _form_response(request, form, status=422)
    return _form_response(request, SessionForm(request.GET or None, session=session))


# --- lifecycle actions --------------------------------------------------------------------------


@operate_required
def session_start(request, session_id: str):
    session = _session_or_404(session_id)
    try:
        session = services.session_start(session=session)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Started {session.name}.")


@operate_required
def session_stop(request, session_id: str):
    session = _session_or_404(session_id)
    try:
        session = services.session_stop(session=session)
    except ServiceError as error:
        return _refused(request, error)
    message = f"Stopped {session.name}." if session.status != Status.RUNNING else f"Stopping {session.name}…"
    return _done(request, message)


@operate_required
def session_delete(request, session_id: str):
    session = _session_or_404(session_id)
    name = session.name
    try:
        services.session_delete(session=session)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Deleted {name}.")


@operate_required
def session_clone(request, session_id: str):
    """Clone, then open the clone in the edit modal so it can be adjusted and started."""
    session = _session_or_404(session_id)
    try:
        clone = services.session_clone(session=session, user=request.user)
    except ServiceError as error:
        return _refused(request, error)
    if not request.htmx:
        messages.success(request, f"Cloned as {clone.name}.")
        return redirect("session_edit", session_id=clone.pk)
    response = _form_response(request, SessionForm(session=clone))
    return _trigger(
        response, **{CHANGED: True, "notify": _notify(f"Cloned as {clone.name}; it waits in Pending.")}
    )


# --- detail -------------------------------------------------------------------------------------


def _run_for(session: Session, config_hash: str | None) -> Run | None:
    if config_hash:
        return get_object_or_404(Run, session=session, config_hash=config_hash)
    return selectors.session_best_run(session)


def _live_context(request, session: Session, run: Run | None) -> dict[str, Any]:
    metrics = selectors.session_metrics(session, run)
    row = _rows([session])[0]
    return {
        "session": session,
        "run": run,
        "row": row,
        "metrics": metrics,
        "currency": metrics.get("currency") or row["currency"],
        "equity": selectors.session_equity(session, run),
        "can_operate": can_operate(request),
        "run_query": f"run={run.config_hash}" if run is not None and request.GET.get("run") else "",
    }


def _trades_context(session: Session, run: Run | None, page: int) -> dict[str, Any]:
    trades = run.trades.order_by("-entry_time", "-id") if run is not None else None
    total = trades.count() if trades is not None else 0
    pages = max(1, math.ceil(total / TRADES_PAGE_SIZE))
    page = min(max(page, 1), pages)
    offset = (page - 1) * TRADES_PAGE_SIZE
    items = list(trades[offset : offset + TRADES_PAGE_SIZE]) if total else []
    for trade in items:
        trade.duration_seconds = (trade.exit_time - trade.entry_time) if trade.exit_time else None
    return {
        "session": session,
        "run": run,
        "trades": items,
        "trades_total": total,
        "trades_currency": selectors.session_currency(session),
        "trades_page": page,
        "trades_pages": pages,
        "trades_first": offset + 1 if total else 0,
        "trades_last": offset + len(items),
    }


def _price_series(session: Session, run: Run | None) -> list[dict[str, Any]]:
    """One price chart per market leg: candles of the sim exchange over the session's range
    when it can give them, else a line through the trades' own prices; trades as markers."""
    if session.type == SessionType.SCRAPER:
        return []
    trades = []
    if run is not None:
        trades = list(
            run.trades.order_by("entry_time", "id").values(
                "market", "side", "entry_time", "entry_price", "exit_time", "exit_price", "realized_pnl"
            )[:400]
        )
    start = session.range_start or (int(session.started_at.timestamp()) if session.started_at else None)
    end = session.range_end or int((session.stopped_at or timezone.now()).timestamp())
    if start is not None and session.type == SessionType.TEST:
        start = min(start, end - 6 * 3600)  # a live session's first minutes, in some context
    quotes = dict(Market.objects.filter(exchange=session.exchange).values_list("symbol", "quote"))
    charts = []
    for leg in session.market_legs:
        leg_trades = [t for t in trades if t["market"] == leg] or (
            trades if len(session.market_legs) == 1 else []
        )
        prices = chart_closes(
            exchange=session.exchange, symbol=leg, start=start, end=end, timeframe=session.timeframe
        )
        if not prices:
            points = []
            for t in leg_trades:
                points.append((t["entry_time"], float(t["entry_price"])))
                if t["exit_time"] is not None and t["exit_price"] is not None:
                    points.append((t["exit_time"], float(t["exit_price"])))
            prices = sorted(points)
        charts.append({"market": leg, "quote": quotes.get(leg, ""), "prices": prices, "trades": leg_trades})
    return charts


@require_GET
def session_detail(request, session_id: str):
    services.sessions_reap_lazily()
    session = get_object_or_404(Session.objects.select_related("created_by", "cloned_from"), pk=session_id)
    run = _run_for(session, request.GET.get("run"))
    context = {
        **base_context(request, "detail"),
        **_live_context(request, session, run),
        **_trades_context(session, run, 1),
        "price_charts": _price_series(session, run),
        "logs": selectors.session_logs(session, tail=200),
        "events": list(session.events.order_by("-created_at", "-id")[:50]),
        "back": _back_url(session),
    }
    run_count = session.runs.count()
    context["run_count"] = run_count
    if run_count > 1:
        runs, _, _ = selectors.run_list(session, {"sort": "total_pnl:desc", "limit": RUNS_PAGE_SIZE})
        context["runs"] = runs
    return render(request, "sessions/detail.html", context)


def _back_url(session: Session) -> str:
    if session.status in FINISHED:
        return reverse("history") + "?period=all"
    if session.type == SessionType.SCRAPER and session.status == Status.RUNNING:
        return reverse("scrapers")
    return reverse("running")


@require_GET
def session_live(request, session_id: str):
    """The detail view's header status, progress and metrics: polled while the session runs."""
    session = _session_or_404(session_id)
    run = _run_for(session, request.GET.get("run"))
    response = render(request, "sessions/_detail_live.html", _live_context(request, session, run))
    if session.status != Status.RUNNING and request.GET.get("was") == "running":
        # It just ended: reload the page once so trades, charts and buttons are final.
        response["HX-Refresh"] = "true"
    return response


@require_GET
def session_trades(request, session_id: str):
    session = _session_or_404(session_id)
    run = _run_for(session, request.GET.get("run"))
    page = _page_number(request.GET)
    return render(request, "sessions/_trades.html", _trades_context(session, run, page))


@require_GET
def session_logs(request, session_id: str):
    """New log lines after `offset`, appended to the log; polls again while running."""
    session = _session_or_404(session_id)
    raw = request.GET.get("offset") or ""
    offset = int(raw) if raw.isdigit() else None
    logs = selectors.session_logs(session, tail=200, offset=offset)
    return render(
        request, "sessions/_logs_poll.html", {"session": session, "logs": logs, "append": offset is not None}
    )
