"""The error envelope of SPEC §8: {"success": false, "error": "...", "errors": {field: [...]}}."""

from __future__ import annotations

from django.http import Http404, JsonResponse
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from sessions_app.errors import ServiceError


def error_body(message: str, errors: dict | None = None) -> dict:
    return {"success": False, "error": message, "errors": errors or {}}


def exception_handler(exc, context):
    """Service errors and DRF's own, all in the envelope with the right status."""
    if isinstance(exc, ServiceError):
        return Response(error_body(exc.message, exc.errors), status=exc.status)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Not found.")
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


def not_found(request, exception=None):
    """JSON 404 for unknown /api/ paths; the HTML 404 elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(f"No endpoint at {request.path}."), status=status.HTTP_404_NOT_FOUND)
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def server_error(request):
    if request.path.startswith("/api/"):
        return JsonResponse(error_body("Internal error; it has been logged."), status=500)
    from django.views.defaults import server_error as html_server_error

    return html_server_error(request)
