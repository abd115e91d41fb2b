"""A request id on every request and answer; an unhandled error answers with it, so a user's
report and the server log meet on one id."""

from __future__ import annotations

import logging
import re
import uuid

from django.conf import settings
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.http.multipartparser import MultiPartParserError

from sessions_app import handlers

logger = logging.getLogger("django.request")

# Django answers these itself (404, 403, 400); they are not errors of ours.
HANDLED_BY_DJANGO = (Http404, PermissionDenied, BadRequest, SuspiciousOperation, MultiPartParserError)

# A proxy's or client's own id is kept when it is short and plain (it goes into logs and headers).
SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")


class RequestIdMiddleware:
    """Sets `request.id` (a sane incoming X-Request-ID, else a fresh uuid4 hex) and the
    X-Request-ID header of the answer. A view's unhandled exception is logged with that id and
    answered with the 500 page, the JSON envelope under /api/ (even in DEBUG)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.headers.get("X-Request-ID", "")
        request.id = incoming if SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        response = self.get_response(request)
        response["X-Request-ID"] = request.id
        return response

    def process_exception(self, request, exception):
        if isinstance(exception, HANDLED_BY_DJANGO):
            return None
        if isinstance(exception, handlers.DATABASE_DOWN):
            # Not a bug of ours: the database is down (or restarting). 503, in DEBUG too.
            logger.warning("Database unavailable in %s %s: %s", request.method, request.path, exception)
            response = handlers.database_down(request)
            response._has_been_logged = True
            return response
        if settings.DEBUG and not request.path.startswith("/api/"):
            return None  # Django's debug page, traceback and all
        logger.error(
            "Unhandled exception in %s %s (request id %s)",
            request.method,
            request.path,
            request.id,
            exc_info=(type(exception), exception, exception.__traceback__),
        )
        response = handlers.server_error(request)
        # Logged above with the id: Django would log it again, without.
        response._has_been_logged = True
        return response
