"""Every bad body on /api/ is answered in the JSON envelope: nesting deeper than the
API takes is a 400 naming `body`, a body over DATA_UPLOAD_MAX_MEMORY_SIZE a 413. Before, 100,000
nested `[` in strategy_params were a 500 (RecursionError) and a 10 MB body an HTML 400."""

import json

import pytest

from sessions_app.models import Session
from tests.conftest import _refused

BODY = {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}


def _nested(depth: int) -> str:
    return json.dumps(BODY)[:-1] + ', "strategy_params": {"threshold": ' + "[" * depth + "]" * depth + "}}"


@pytest.mark.parametrize("depth", [100_000, 1000, 40])
def test_a_body_nested_too_deep_is_a_400_naming_body(operator_api, depth):
    response = operator_api.post("/api/sessions", _nested(depth), content_type="application/json")

    body = _refused(response, 400, "body")
    assert "nested deeper than 32 levels" in body["error"]
    assert not Session.objects.exists()


def test_the_nesting_the_api_takes_still_parses(operator_api):
    response = operator_api.post("/api/sessions", _nested(3), content_type="application/json")

    # Parsed, then refused by the parameter's own check: a threshold is a number.
    _refused(response, 400, "strategy_params.threshold")


@pytest.mark.parametrize("method", ["post", "patch"])
def test_a_body_too_large_is_a_413_in_the_envelope(operator_api, make_session, method):
    session = make_session()
    path = "/api/sessions" if method == "post" else f"/api/sessions/{session.id}"
    big = json.dumps({**BODY, "notes": "x" * 10_000_000})

    response = getattr(operator_api, method)(path, big, content_type="application/json")

    assert response["Content-Type"].startswith("application/json")
    body = _refused(response, 413, "body")
    assert "larger than 2.5 MB" in body["error"]
    assert Session.objects.count() == 1


def test_outside_a_view_django_s_own_refusals_are_the_envelope_too(operator_api, settings):
    """A request Django refuses before any view (here a Host it does not serve) under /api/,
    as production answers it (DEBUG off: handler400)."""
    settings.DEBUG = False
    response = operator_api.get("/api/sessions", HTTP_HOST="evil.example.com")

    assert response["Content-Type"].startswith("application/json")
    _refused(response, 400, "body")


def test_a_dashboard_form_too_large_is_a_413_page(client, operator, settings):
    settings.DEBUG = False
    client.force_login(operator)

    response = client.post("/sessions/new/", {"notes": "x" * 3_000_000})

    assert response.status_code == 413
