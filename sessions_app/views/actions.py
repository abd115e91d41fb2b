"""Start, stop, delete and clone: one service call each, answered with a toast and a list refresh."""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect

from sessions_app import selectors, services
from sessions_app.errors import ServiceError
from sessions_app.forms import SessionForm
from sessions_app.models import Status
from sessions_app.views.htmx import CHANGED, _done, _notify, _refused, _trigger, operate_required
from sessions_app.views.modal import _form_response


@operate_required
def session_start(request, session_id: str):
    session = selectors.session_get(session_id=session_id)
    try:
        session = services.session_start(session=session)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Started {session.name}.")


@operate_required
def session_stop(request, session_id: str):
    session = selectors.session_get(session_id=session_id)
    try:
        session = services.session_stop(session=session)
    except ServiceError as error:
        return _refused(request, error)
    message = f"Stopped {session.name}." if session.status != Status.RUNNING else f"Stopping {session.name}…"
    return _done(request, message)


@operate_required
def session_delete(request, session_id: str):
    session = selectors.session_get(session_id=session_id)
    name = session.name
    try:
        services.session_delete(session=session)
    except ServiceError as error:
        return _refused(request, error)
    return _done(request, f"Deleted {name}.")


@operate_required
def session_clone(request, session_id: str):
    """Clone, then open the clone in the edit modal so it can be adjusted and started."""
    session = selectors.session_get(session_id=session_id)
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
