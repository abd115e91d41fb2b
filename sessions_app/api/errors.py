"""DRF's refusals in the one error envelope (`sessions_app.errors.error_body`), and the API's
last route: an unknown /api/ path is the JSON 404 (`sessions_app.handlers.not_found`)."""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import RequestDataTooBig
from django.http import Http404
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sessions_app import outages
from sessions_app.errors import ServiceError, error_body
from sessions_app.handlers import BODY_TOO_LARGE_MESSAGE, DATABASE_DOWN, DATABASE_DOWN_MESSAGE, not_found

logger = logging.getLogger(__name__)


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
