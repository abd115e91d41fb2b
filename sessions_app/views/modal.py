"""The create/edit modal: the form (re-rendered as the type or strategy changes), save, save & start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse

from sessions_app import selectors, services
from sessions_app.errors import Conflict, InvalidInput, ServiceError
from sessions_app.forms import SessionForm
from sessions_app.models import Status
from sessions_app.views.htmx import CHANGED, _done, _refused, can_operate, forbidden

if TYPE_CHECKING:
    from sessions_app.models import Session


def _form_response(request: HttpRequest, form: SessionForm, *, status: int = 200) -> HttpResponse:
    context = {"form": form, "can_operate": can_operate(request), "tab": ""}
    if form.session is not None:
        context["action"] = reverse("session_edit", args=[form.session.pk])
    else:
        context["action"] = reverse("session_new")
    template = "sessions/_session_form.html" if request.htmx else "sessions/session_form_page.html"
    return render(request, template, context, status=status)


def _start_after_save(request: HttpRequest, session: Session, verb: str) -> HttpResponse:
    if request.POST.get("action") == "start":
        try:
            session = services.session_start(session=session)
        except ServiceError as error:  # a limit (409) or the broker down (503): it stays created
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
            return forbidden()
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
        return forbidden()
    return _form_response(request, SessionForm(request.GET or None))


def session_edit(request, session_id: str):
    """Edit a created session in the same modal (services.session_update)."""
    session = selectors.session_get(session_id=session_id)
    if request.method not in ("GET", "POST"):
        return HttpResponse(status=405)
    if not can_operate(request):
        return forbidden()
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
