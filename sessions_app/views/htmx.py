"""What every dashboard view shares: the operate check, HTMX partials and the action answers.

Every page needs login (LoginRequiredMiddleware). Acting needs the operate permission, checked
in each view; viewers get 403. HTMX requests get small `_partial.html` templates; the same URLs
answer plain browser requests with full pages (or a redirect after a POST).
"""

from __future__ import annotations

import json
from functools import wraps
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, QueryDict
from django.shortcuts import redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from sessions_app.errors import ServiceError
from sessions_app.models import OPERATE_PERMISSION

CHANGED = "sessionsChanged"  # the HX-Trigger event every list refreshes on
FORBIDDEN = "You may look but not act: the operate permission is needed."


def can_operate(request: HttpRequest) -> bool:
    return request.user.has_perm(OPERATE_PERMISSION)


def forbidden() -> HttpResponse:
    return HttpResponseForbidden(FORBIDDEN)


def operate_required(view):
    """POST only, and only for users with the operate permission (403 otherwise)."""

    @require_POST
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        if not can_operate(request):
            return forbidden()
        return view(request, *args, **kwargs)

    return wrapped


def is_partial(request: HttpRequest) -> bool:
    """An HTMX swap of part of a page (not a boosted link, not a history restore)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted and not htmx.history_restore_request


def page_number(query: QueryDict, field: str = "page") -> int:
    """`?page=N`, 1 when missing or not a positive whole number."""
    raw = query.get(field) or "1"
    return int(raw) if raw.isdecimal() and int(raw) >= 1 else 1


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


def base_context(request: HttpRequest, tab: str) -> dict[str, Any]:
    return {"tab": tab, "can_operate": can_operate(request)}
