"""One error shape for every /api/ answer, so clients handle failures in one place:
{"success": false, "error": "...", "errors": {field: [...]}}."""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.db import InterfaceError, OperationalError
from django.http import Http404, HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.decorators.csrf import csrf_exempt
from django.views.defaults import bad_request as defaults_bad_request
from django.views.defaults import page_not_found
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sessions_app import outages
from sessions_app.errors import ServiceError

logger = logging.getLogger(__name__)

# The database is down or went away (MariaDB restarting, the server unreachable): a 503 to try
# again, not a 500 to report (SPEC §18). SQLite's "database is locked" is one too.
DATABASE_DOWN = (OperationalError, InterfaceError)
DATABASE_DOWN_MESSAGE = "The database is unreachable for the moment; try again in a few seconds."


# Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) before anything reads it.
BODY_TOO_LARGE_MESSAGE = (
    f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:.1f} MB; "
    "nothing was read."
)


def error_body(message: str, errors: dict | None = None) -> dict:
    return {"success": False, "error": message, "errors": errors or {}}


def exception_handler(exc, context):
    """Service errors and DRF's own, all in the envelope with the right status."""
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.message, exc.errors), status=exc.status)
    if isinstance(exc, DATABASE_DOWN):
        logger.warning("Database unavailable: %s", exc)
        outages.database_down_noted()
        return Response(error_body(DATABASE_DOWN_MESSAGE), status=503, headers={"Retry-After": "5"})
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
    if isinstance(exc, RequestDataTooBig):
        return Response(error_body(BODY_TOO_LARGE_MESSAGE, {"body": [BODY_TOO_LARGE_MESSAGE]}), status=413)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None  # a real bug: let it be a 500 with a traceback in the logs
    if isinstance(exc, exceptions.ValidationError):
        errors = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        field, messages = next(iter(errors.items()), ("body", ["Invalid input."]))
        message = f"{field}: {messages[0] if isinstance(messages, list) else messages}"
    elif isinstance(exc, exceptions.ParseError):
        errors, message = {"body": [str(exc.detail)]}, f"body: {exc.detail}"
    else:
        errors, message = {}, str(exc.detail)
    response.data = error_body(message, errors)
    return response


@csrf_exempt  # it changes nothing; a POST without a token still gets the JSON 404
@login_not_required  # anonymous callers get the JSON 404 too, not the login page
def unknown_endpoint(request, *args, **kwargs):
    """The last /api/ route: an unknown path is a JSON 404 even in DEBUG (no HTML debug page)."""
    return not_found(request)


def not_found(request, exception=None):
    """JSON 404 for unknown /api/ paths; the product's 404 page (templates/404.html) elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(f"No endpoint at {request.path}."), status=status.HTTP_404_NOT_FOUND)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """The 400 answer Django gives for a request it refuses itself (a bad Host, a body too large,
    too many fields): the envelope under /api/, else the product's page; a body too large is a
    413 either way."""
    too_large = isinstance(exception, RequestDataTooBig)
    if request.path.startswith("/api/"):
        message = BODY_TOO_LARGE_MESSAGE if too_large else "The request was refused as malformed."
        return JsonResponse(error_body(message, {"body": [message]}), status=413 if too_large else 400)
    response = defaults_bad_request(request, exception)
    if too_large:
        response.status_code = 413
    return response


def database_down(request) -> HttpResponse:
    """The 503 answer while the database is down: the envelope under /api/, else a page that
    needs neither the database nor the request's context (templates/503.html)."""
    outages.database_down_noted()  # the reaper of this process forgives heartbeats it delayed
    if request.path.startswith("/api/"):
        response = JsonResponse(error_body(DATABASE_DOWN_MESSAGE), status=503)
    else:
        try:
            html = loader.render_to_string("503.html")
        except Exception:  # never hide the answer behind a template error
            logger.exception("The 503 page could not be rendered")
            html = "<!doctype html><title>Unavailable</title><h1>The database is unreachable (503)</h1>"
        response = HttpResponse(html, status=503)
    response["Retry-After"] = "5"
    return response


def server_error(request):
    """The 500 answer, with the request id the logs carry. It needs no database and no user: the
    page is rendered without the request's context processors (session, messages, auth).
    A database outage raised outside a view (a middleware reading the session or the user) ends
    here too: it answers 503."""
    if isinstance(sys.exc_info()[1], DATABASE_DOWN):
        return database_down(request)
    request_id = getattr(request, "id", None)  # None only when RequestIdMiddleware itself failed
    if request.path.startswith("/api/"):
        if request_id is None:
            return JsonResponse(error_body("Internal error; it has been logged."), status=500)
        body = error_body(f"Internal error (request id {request_id}); it has been logged.")
        return JsonResponse({**body, "request_id": request_id}, status=500)
    try:
        html = loader.render_to_string("500.html", {"request_id": request_id})
    except Exception:  # a broken template or missing static manifest must not hide the error
        logger.exception("The 500 page could not be rendered")
        html = "<!doctype html><title>Server error</title><h1>Server error (500)</h1>"
    return HttpResponseServerError(html)
