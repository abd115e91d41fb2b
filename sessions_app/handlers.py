"""Django's own error answers (handler400, handler404, handler500) and the 503 of a database
outage: the JSON envelope under /api/, the product's pages elsewhere.

Below both front ends: config/urls.py names these handlers, config/middleware.py answers a
view's crash and a database outage with them, and the API's DRF exception handler and its last
route reuse their messages and pages.
"""

from __future__ import annotations

import logging
import sys

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse, HttpResponseServerError, JsonResponse
from django.template import loader
from django.views.defaults import bad_request as defaults_bad_request
from django.views.defaults import page_not_found

from sessions_app import outages
from sessions_app.errors import error_body

logger = logging.getLogger(__name__)

# The database is down or went away (MariaDB restarting, the server unreachable): a 503 to try
# again, not a 500 to report (docs/operations.md). SQLite's "database is locked" is one too.
DATABASE_DOWN = outages.DATABASE_DOWN
DATABASE_DOWN_MESSAGE = "The database is unreachable for the moment; try again in a few seconds."

# Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB) before anything reads it.
BODY_TOO_LARGE_MESSAGE = (
    f"The request body is larger than {settings.DATA_UPLOAD_MAX_MEMORY_SIZE / 2**20:.1f} MB; "
    "nothing was read."
)


def _is_api(request) -> bool:
    return request.path.startswith("/api/")


def not_found(request, exception=None):
    """JSON 404 for unknown /api/ paths; the product's 404 page (templates/404.html) elsewhere."""
    if _is_api(request):
        return JsonResponse(error_body(f"No endpoint at {request.path}."), status=404)
    return page_not_found(request, exception)


def bad_request(request, exception=None):
    """The 400 answer Django gives for a request it refuses itself (a bad Host, a body too large,
    too many fields): the envelope under /api/, else the product's page; a body too large is a
    413 either way."""
    too_large = isinstance(exception, RequestDataTooBig)
    if _is_api(request):
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
    if _is_api(request):
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
    if _is_api(request):
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
