"""Every /api/ answer is the JSON envelope: unknown paths, wrong methods, crashes."""

from __future__ import annotations

import logging
import re

import pytest
from django.urls import include, path
from rest_framework.decorators import api_view

import config.urls


@api_view(["GET"])
def crashing_view(request):
    """A bug: DRF's exception handler does not know this exception."""
    raise RuntimeError("the view has a bug")


def crashing_page(request):
    raise RuntimeError("the page has a bug")


# This module is the URLconf of the crash tests: the product's routes behind two failing ones.
urlpatterns = [
    path("api/crash", crashing_view),
    path("crash/", crashing_page),
    path("", include(config.urls.urlpatterns)),
]
handler404 = config.urls.handler404
handler500 = config.urls.handler500


@pytest.fixture
def crashing_routes(settings):
    settings.ROOT_URLCONF = __name__


def _json(response, status: int) -> dict:
    assert response.status_code == status, (response.status_code, response.content[:500])
    assert response["Content-Type"] == "application/json"
    return response.json()


@pytest.mark.parametrize("debug", [False, True], ids=["production", "DEBUG"])
@pytest.mark.parametrize("client_name", ["operator_api", "anon_api"])
@pytest.mark.parametrize("url", ["/api/nope", "/api/sessions/123/nope/", "/api/v2/sessions"])
def test_an_unknown_path_is_a_json_404_with_or_without_login(
    request, settings, assert_refused, debug, client_name, url
):
    settings.DEBUG = debug  # in DEBUG, Django would answer its HTML "Page not found" page
    client = request.getfixturevalue(client_name)

    for method in ("get", "post", "delete"):
        response = getattr(client, method)(url)

        assert response["Content-Type"] == "application/json"
        body = assert_refused(response, 404)
        assert body["error"] == f"No endpoint at {url}."


@pytest.mark.parametrize(
    "method, url",
    [
        ("put", "/api/sessions"),
        ("delete", "/api/markets"),
        ("post", "/api/strategies"),
        ("post", "/api/schema/"),
        ("get", "/api/sessions/00000000-0000-0000-0000-000000000000/start"),
    ],
)
def test_a_wrong_method_is_a_json_405(operator_api, assert_refused, method, url):
    response = getattr(operator_api, method)(url)

    assert response["Content-Type"] == "application/json"
    body = assert_refused(response, 405)
    assert method.upper() in body["error"]


def test_the_schema_refuses_anonymous_callers_in_json(anon_api, assert_refused):
    response = anon_api.get("/api/schema/")

    assert response["Content-Type"] == "application/json"
    assert_refused(response, 401)


def test_an_unhandled_error_is_a_json_500_with_the_request_id_logged(crashing_routes, operator_api, caplog):
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = operator_api.get("/api/crash")

    body = _json(response, 500)
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    assert body == {
        "success": False,
        "error": f"Internal error (request id {request_id}); it has been logged.",
        "errors": {},
        "request_id": request_id,
    }
    logged = [r for r in caplog.records if r.exc_info and r.exc_info[0] is RuntimeError]
    assert len(logged) == 1, [r.getMessage() for r in caplog.records]
    assert request_id in logged[0].getMessage()
    assert "the view has a bug" in str(logged[0].exc_info[1])


def test_it_keeps_a_sane_incoming_request_id_and_replaces_an_odd_one(crashing_routes, operator_api):
    kept = operator_api.get("/api/crash", HTTP_X_REQUEST_ID="proxy-7f3a9c21")
    replaced = operator_api.get("/api/crash", HTTP_X_REQUEST_ID="<script>" + "x" * 100)

    assert kept["X-Request-ID"] == "proxy-7f3a9c21"
    assert _json(kept, 500)["request_id"] == "proxy-7f3a9c21"
    assert re.fullmatch(r"[0-9a-f]{32}", replaced["X-Request-ID"])
    assert _json(replaced, 500)["request_id"] == replaced["X-Request-ID"]


def test_every_answer_carries_a_request_id(operator_api, client):
    assert re.fullmatch(r"[0-9a-f]{32}", operator_api.get("/api/sessions")["X-Request-ID"])
    assert re.fullmatch(r"[0-9a-f]{32}", client.get("/accounts/login/")["X-Request-ID"])


def test_an_html_page_error_is_the_products_500_page_with_the_request_id(
    crashing_routes, client, operator, caplog
):
    client.force_login(operator)

    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = client.get("/crash/")

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "Something went wrong" in page and "Your Bots" in page
    assert response["X-Request-ID"] in page
    assert any(response["X-Request-ID"] in r.getMessage() and r.exc_info for r in caplog.records)


@pytest.mark.parametrize(
    "path",
    [
        "/api/sessions?limit=²",
        "/api/sessions?offset=²",
        "/api/sessions/{id}/events?limit=²",
        "/api/sessions/{id}/trades?offset=²",
        "/api/sessions/{id}/logs?tail=²",
        "/api/sessions/{id}/runs?cursor=²",
    ],
)
def test_digits_that_are_not_decimal_are_a_400_not_a_500(operator_api, make_session, assert_refused, path):
    """'²'.isdigit() is true but int('²') fails: numbers are checked as decimals."""
    session = make_session(type="backtest")
    assert_refused(operator_api.get(path.format(id=session.pk)), 400)
