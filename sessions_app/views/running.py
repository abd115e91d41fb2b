"""Running Sessions: the running and the pending lists, and one row as it polls."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from sessions_app import selectors, services
from sessions_app.models import Status
from sessions_app.views.htmx import CHANGED, _trigger, base_context, can_operate, is_partial

CREATED_SHOWN = 50
RUNNING_SHOWN = 200


def _running_context(request: HttpRequest) -> dict[str, Any]:
    services.sessions_reap_lazily()
    running = selectors.sessions_running(limit=RUNNING_SHOWN)
    created = selectors.sessions_created(limit=CREATED_SHOWN)
    return {
        **base_context(request, "running"),
        "running_rows": selectors.session_rows(sessions=running),
        "running_total": len(running),
        "created_rows": selectors.session_rows(sessions=created.items),
        "created_total": created.total,
        "created_more": created.total - len(created.items),
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
    session = selectors.session_find(session_id=session_id)
    if session is None:
        if request.htmx:  # deleted meanwhile: the row goes away
            return _trigger(HttpResponse(""), **{CHANGED: True})
        raise Http404("No such session.")
    row = selectors.session_rows(sessions=[session])[0]
    response = render(
        request, "sessions/_session_row.html", {"row": row, "can_operate": can_operate(request), "view": view}
    )
    if request.htmx and session.status != Status.RUNNING and request.GET.get("was") == "running":
        _trigger(response, **{CHANGED: True})
    return response
