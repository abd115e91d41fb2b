"""Errors the services raise, and the one envelope every JSON refusal is written in.

The API and the HTML views turn the errors into 4xx answers; the envelope,
{"success": false, "error": "...", "errors": {field: [...]}}, lets a client handle every
failure in one place (the API's refusals, Django's own 400/404/500, a database outage's 503).
"""

from __future__ import annotations


def error_body(message: str, errors: dict | None = None) -> dict:
    return {"success": False, "error": message, "errors": errors or {}}


class ServiceError(Exception):
    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class InvalidInput(ServiceError):
    """Bad input (400); `errors` names each field."""

    status = 400

    @classmethod
    def from_errors(cls, errors: dict[str, list[str]]) -> InvalidInput:
        field, messages = next(iter(errors.items()))
        return cls(f"{field}: {messages[0]}", errors)


class Conflict(ServiceError):
    """The session is in the wrong state, or a limit is reached (409)."""

    status = 409


class NotFound(ServiceError):
    status = 404


class Unavailable(ServiceError):
    """A part the request needs (the broker, the database) is down; try again (503)."""

    status = 503
