"""What every API view is made of: `endpoint` (DRF's function view, its auth and its OpenAPI
operation declared on it), `answer` (the envelope of a declared shape) and the lookups and body
checks the resource modules share.

A resource module (sessions, runs, trades, ...) holds, top to bottom, its query parameters
(`sessions_app.api.params.Query`), its answers' serializers (made from the shapes of
`sessions_app.representations`) and its views, each declaring its operation here:

    LIST = Operation("List sessions", SESSIONS, {200: SessionListSerializer}, (400,), query=LIST_QUERY)

    @endpoint(get=LIST, post=CREATE)
    def sessions(request): ...

The views are thin: parse the request, call a selector or service, answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.decorators import login_not_required
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.decorators import api_view, permission_classes, renderer_classes
from rest_framework.response import Response

from sessions_app import selectors, services
from sessions_app.api.params import Query
from sessions_app.api.permissions import CanOperateOrReadOnly
from sessions_app.api.serializers import ErrorSerializer
from sessions_app.errors import InvalidInput

if TYPE_CHECKING:
    from sessions_app.models import Session

# The tags of the schema's sections.
SESSIONS, DATA, REFERENCE, LEGACY = "sessions", "session data", "reference data", "deprecated"
JSON = "application/json"

REFUSALS = {
    400: "Bad input: `errors` names every field at fault.",
    401: "No valid token or login.",
    403: "Logged in without the operate_session permission (or a session login without CSRF token).",
    404: "No such session, run or strategy.",
    409: "The session is in the wrong state for this, or the type's running limit is reached.",
    503: "The database (or, for a start, the task broker) is unreachable for now; try again. "
    "A start refused so leaves the session `created`.",
}


@dataclass(frozen=True)
class Operation:
    """One method of an endpoint as /api/schema/ states it: `answers` (status -> serializer,
    or (status, media type) -> OpenApiResponse), the refusals it can answer (401 and 503 are
    always there: any call can get them), its query parameters and its body. The description
    is the view's docstring unless given."""

    summary: str
    tag: str
    answers: dict
    refusals: tuple[int, ...] = ()
    query: Query | None = None
    body: type[serializers.Serializer] | None = None
    description: str | None = None
    deprecated: bool = False

    def declaration(self, method: str, doc: str):
        refused = {
            code: OpenApiResponse(ErrorSerializer, description=REFUSALS[code])
            for code in sorted({401, 503, *self.refusals})
        }
        options: dict[str, Any] = {
            "methods": [method],
            "summary": self.summary,
            "description": self.description if self.description is not None else doc,
            "tags": [self.tag],
            "responses": {**self.answers, **refused},
        }
        if self.query is not None:
            options["parameters"] = self.query.parameters
        if method in ("POST", "PATCH", "PUT"):
            options["request"] = {JSON: self.body} if self.body is not None else None
        if self.deprecated:
            options["deprecated"] = True
        return extend_schema(**options)


def endpoint(renderers: list | None = None, **operations: Operation):
    """A DRF function view taking the methods `operations` names (get=, post=, ...), each
    declared for the schema: token or session auth (not the login redirect), reads for all
    logged-in users, writes for operators; `renderers` instead of the settings' JSONRenderer."""
    methods = [method.upper() for method in operations]

    def decorate(view):
        inner = permission_classes([CanOperateOrReadOnly])(view)
        if renderers is not None:
            inner = renderer_classes(renderers)(inner)
        wrapped = _releasing(api_view(methods)(inner))
        doc = (view.__doc__ or "").strip()
        for method, operation in zip(methods, operations.values(), strict=True):
            wrapped = operation.declaration(method, doc)(wrapped)
        return login_not_required(wraps(view)(wrapped))

    return decorate


def _releasing(drf_view):
    """The DRF view, whose answer is freed as its request ends. DRF leaves it in cycles: the
    view instance keeps it (`self.response`), its renderer_context keeps the view and, once
    rendered, the answer itself. So every answer (a chart's thousands of rows) waited for a
    full collection, which then freed those of ten requests at once, in one of them (~10 ms).
    The attributes Django, DRF and the schema read (`cls`, `initkwargs`, `csrf_exempt`) are
    the DRF view's."""

    @wraps(drf_view)
    def view(request, *args, **kwargs):
        response = drf_view(request, *args, **kwargs)
        if hasattr(response, "add_post_render_callback"):
            response.add_post_render_callback(_uncycle)
        return response

    return view


def _uncycle(response) -> None:
    """After rendering, what kept the answer in a cycle (see _releasing) lets go of it."""
    context = getattr(response, "renderer_context", None) or {}
    if context.get("response") is response:
        del context["response"]
    instance = context.get("view")
    if instance is not None and instance.__dict__.get("response") is response:
        del instance.response


@cache
def _answer_keys(serializer: type[serializers.Serializer]) -> frozenset[str]:
    return frozenset(serializer().fields) - {"success"}


class AnswerShapeError(TypeError):
    """A view answered other keys than its declared answer has: the schema would be wrong."""


def answer(serializer: type[serializers.Serializer], status_code: int = status.HTTP_200_OK, /, **body):
    """`{"success": true, **body}` as the declared `serializer` describes it: the keys are checked
    against its fields (a set comparison), so an answer cannot grow a key the schema lacks."""
    if body.keys() != _answer_keys(serializer):
        expected = _answer_keys(serializer)
        raise AnswerShapeError(
            f"{serializer.__name__}: answered {sorted(body.keys() - expected)} more and "
            f"{sorted(expected - body.keys())} fewer than declared."
        )
    return Response({"success": True, **body}, status=status_code)


def request_body(request) -> dict:
    if not isinstance(request.data, dict):
        raise InvalidInput.from_errors({"body": ["Must be a JSON object."]})
    return dict(request.data.items())


def session_for(session_id: str) -> Session:
    """The session of the URL (a 404 when unknown), after reaping the lost ones: an answer never
    shows a session running whose worker is gone."""
    services.sessions_reap_lazily()
    return selectors.session_get(session_id=session_id)
