"""History: finished sessions, filtered by the URL, sorted by a column, a page at a time."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.http import HttpRequest, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sessions_app import selectors
from sessions_app.errors import InvalidInput
from sessions_app.models import FINISHED, SessionType
from sessions_app.selectors import NumberedPage, PageKey, SessionFilters, cursor_dumps, cursor_loads
from sessions_app.views.htmx import base_context, is_partial, page_number

PAGE_SIZE = 20
PERIODS = {
    "24h": ("Last 24 hours", timedelta(hours=24)),
    "7d": ("Last 7 days", timedelta(days=7)),
    "30d": ("Last 30 days", timedelta(days=30)),
    "all": ("All time", None),
}
DEFAULT_PERIOD = "7d"
# The URL's sort keys -> the fields selectors.history_page sorts by (nothing else is accepted).
SORTS = {
    "name": "name",
    "type": "type",
    "market": "market",
    "trades": "trade_count",
    "pnl": "total_pnl",
    "duration": "duration",
    "created": "created_at",
}
COLUMNS = (
    ("name", "Name"),
    ("type", "Type"),
    ("market", "Market"),
    ("trades", "Trades"),
    ("pnl", "PnL"),
    ("duration", "Duration"),
)
NUMERIC = ("trades", "pnl", "duration")
# Next and Previous carry keyset cursors of this list (signed like the API's).
CURSOR_LIST = "history"


def _history_params(query: QueryDict) -> dict[str, str]:
    """The filters of the URL, each checked against its whitelist (unknown values drop out)."""
    statuses = [str(s) for s in FINISHED]
    sort = query.get("sort", "")
    return {
        "type": query.get("type") if query.get("type") in SessionType.values else "",
        "market": (query.get("market") or "").strip()[:41],
        "status": query.get("status") if query.get("status") in statuses else "",
        "period": query.get("period") if query.get("period") in PERIODS else DEFAULT_PERIOD,
        "q": (query.get("q") or "").strip()[:200],
        "sort": sort if sort in SORTS else "created",
        "dir": "asc" if query.get("dir") == "asc" else "desc",
    }


def _filters(params: dict[str, str]) -> SessionFilters:
    since = PERIODS[params["period"]][1]
    return SessionFilters(
        statuses=(params["status"],) if params["status"] else tuple(str(s) for s in FINISHED),
        types=(params["type"],) if params["type"] else (),
        markets=tuple(m.strip() for m in params["market"].split(",")) if params["market"] else (),
        q=params["q"],
        created_after=timezone.now() - since if since is not None else None,
    )


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


def _columns(params: dict[str, str]) -> list[dict[str, Any]]:
    """The sortable headers: a click on the active one flips the direction; text sorts A-Z first."""
    columns = []
    for key, label in COLUMNS:
        active = params["sort"] == key
        next_dir = "asc" if active and params["dir"] == "desc" else "desc"
        if not active and key not in NUMERIC:
            next_dir = "asc"
        columns.append(
            {
                "key": key,
                "label": label,
                "active": active,
                "dir": params["dir"] if active else "",
                "query": _querystring(params, sort=key, dir=next_dir),
                "numeric": key in NUMERIC,
            }
        )
    return columns


def _page_cursor(query: QueryDict, field: str, params: dict[str, str]) -> PageKey | None:
    """The key of `after`/`before` (Next, Previous) for this sort; a stale or edited one is
    dropped, and the page is read by its number."""
    sort = SORTS[params["sort"]]
    if sort == "duration":
        return None
    try:
        keyset = selectors.session_keyset(sort=sort, descending=params["dir"] == "desc")
        return cursor_loads(query.get(field), list_name=CURSOR_LIST, sort=sort, keyset=keyset)
    except InvalidInput:
        return None


def _cursor(params: dict[str, str], key: PageKey | None) -> str | None:
    return cursor_dumps(
        key, list_name=CURSOR_LIST, sort=SORTS[params["sort"]], descending=params["dir"] == "desc"
    )


def _paging_context(params: dict[str, str], page: NumberedPage) -> dict[str, Any]:
    """The pager: page links by number, Previous and Next by keyset (the rows before the first
    and after the last row shown), so walking through History never reads past an OFFSET."""
    number, pages = page.number, page.pages
    previous = {"before": _cursor(params, page.previous_key)} if page.previous_key else {}
    following = {"after": _cursor(params, page.next_key)} if page.next_key else {}
    return {
        "total": page.total,
        "page": number,
        "pages": pages,
        "first": page.first,
        "last": page.last,
        "page_links": [
            {"number": n, "query": _querystring(params, page=n) if n else ""}
            for n in _page_links(number, pages)
        ],
        "prev_query": _querystring(params, **previous, page=number - 1) if number > 1 else None,
        "next_query": _querystring(params, **following, page=number + 1) if number < pages else None,
    }


def _history_context(request: HttpRequest) -> dict[str, Any]:
    params = _history_params(request.GET)
    page = selectors.history_page(
        filters=_filters(params),
        sort=SORTS[params["sort"]],
        descending=params["dir"] == "desc",
        number=page_number(request.GET),
        size=PAGE_SIZE,
        after=_page_cursor(request.GET, "after", params),
        before=_page_cursor(request.GET, "before", params),
    )
    return {
        **base_context(request, "history"),
        "rows": selectors.session_rows(sessions=page.items),
        "params": params,
        **_paging_context(params, page),
        "columns": _columns(params),
        "type_choices": SessionType.choices,
        "status_choices": [(str(s), str(s).title()) for s in FINISHED],
        "market_choices": selectors.market_choices(),
        "period_choices": [(key, label) for key, (label, _) in PERIODS.items()],
    }


@require_GET
@vary_on_headers("HX-Request")
def history(request):
    context = _history_context(request)
    if is_partial(request):
        return render(request, "sessions/_history_table.html", context)
    return render(request, "sessions/history.html", context)
