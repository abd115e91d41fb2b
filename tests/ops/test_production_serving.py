"""Production serving for real: gunicorn, DEBUG off, whitenoise's hashed static files.

The server is a subprocess on the test database, as `make run` starts it (minus the worker):
collectstatic into a private STATIC_ROOT, plain-HTTP overrides, a free port.
"""

from __future__ import annotations

import json
import os
import re
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar

import pytest

from bench.server import collectstatic, free_port, gunicorn_start, stop
from tests.worker_fixtures import current_database_url

PASSWORD = "a-real-password-for-gunicorn"


class Server:
    def __init__(self, base_url: str, log_path):
        self.base_url = base_url
        self.log_path = log_path

    def output(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def production_server(transactional_db, broker_isolation, data_root, tmp_path):
    env = {
        # Not the browser tests' Playwright switch: production has none.
        **{key: value for key, value in os.environ.items() if key != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        **broker_isolation,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "SECRET_KEY": "production-serving-test-" + "k7Qz" * 10,
        "ALLOWED_HOSTS": "127.0.0.1",
        "DATABASE_URL": current_database_url(),
        "DATA_ROOT": str(data_root),
        "STATIC_ROOT": str(tmp_path / "static"),
        # What bin/run turns off for plain HTTP on 127.0.0.1, and nothing else.
        "SECURE_SSL_REDIRECT": "false",
        "SESSION_COOKIE_SECURE": "false",
        "CSRF_COOKIE_SECURE": "false",
        "SECURE_HSTS_SECONDS": "0",
    }
    try:
        collectstatic(env)
    except RuntimeError as error:
        pytest.fail(str(error))
    assert (tmp_path / "static" / "staticfiles.json").exists()

    port = free_port()
    log_path = tmp_path / "gunicorn.log"
    server = Server(f"http://127.0.0.1:{port}", log_path)
    with open(log_path, "wb") as log:
        try:
            process = gunicorn_start(
                port,
                env=env,
                workers=1,
                threads=2,
                log=log,
                args=("--no-control-socket", "--access-logfile", "-"),
            )
        except RuntimeError as error:
            pytest.fail(f"{error}:\n{server.output()}")
    try:
        yield server
    finally:
        stop(process)
        # Shown by pytest only when the test failed.
        print(f"--- gunicorn output ---\n{server.output()}")


def _request(opener, url: str, *, data: dict | None = None, headers: dict | None = None):
    """(status, headers, body text); 4xx and 5xx are answers too, not exceptions."""
    body = urllib.parse.urlencode(data).encode() if data is not None else None
    request = urllib.request.Request(url, data=body, headers=headers or {})
    try:
        with opener.open(request, timeout=30) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def _stylesheet(html: str) -> str:
    match = re.search(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert match, html[:1000]
    return match.group(1)


@pytest.fixture
def user_with_token(transactional_db):
    """A real user (the default password hasher: the server knows no test-only one) and token."""
    from django.contrib.auth.models import User
    from rest_framework.authtoken.models import Token

    user = User.objects.create_user("petra", "petra@example.com", PASSWORD)
    return user, Token.objects.create(user=user)


def test_it_serves_pages_static_files_and_the_api_with_debug_off(
    production_server, user_with_token, make_session
):
    base = production_server.base_url
    user, token = user_with_token
    session = make_session(user=user, name="Served by gunicorn")
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    status, headers, login_page = _request(browser, f"{base}/accounts/login/")
    assert status == 200, login_page[:2000]
    assert headers["Content-Type"].startswith("text/html")
    assert headers["X-Request-ID"]
    css = _stylesheet(login_page)
    # The manifest's hashed name: collectstatic ran and DEBUG is off.
    assert re.fullmatch(r"/static/css/dashboard\.[0-9a-f]{12}\.css", css), css

    status, headers, stylesheet = _request(browser, base + css)
    assert status == 200
    assert headers["Content-Type"].startswith("text/css")
    assert ".auth-card" in stylesheet

    # lightweight-charts, collected from node_modules (never committed), served by the product.
    status, headers, library = _request(
        browser, f"{base}/static/vendor/lightweight-charts/lightweight-charts.standalone.production.js"
    )
    assert status == 200 and "javascript" in headers["Content-Type"]
    assert "LightweightCharts" in library

    token_field = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', login_page).group(1)
    status, _, dashboard = _request(
        browser,
        f"{base}/accounts/login/",
        data={"username": "petra", "password": PASSWORD, "csrfmiddlewaretoken": token_field, "next": "/"},
    )
    assert status == 200, dashboard[:2000]
    assert "Running Sessions" in dashboard and "petra" in dashboard, dashboard[:2000]
    assert _stylesheet(dashboard) == css

    status, headers, body = _request(
        urllib.request.build_opener(), f"{base}/api/sessions", headers={"Authorization": f"Token {token.key}"}
    )
    assert status == 200, body[:2000]
    assert headers["Content-Type"] == "application/json"
    answer = json.loads(body)
    assert answer["success"] is True
    assert str(session.id) in {row["id"] for row in answer["sessions"]}


def test_unknown_paths_get_the_products_404_page_and_the_json_envelope(production_server):
    base = production_server.base_url
    anonymous = urllib.request.build_opener()

    status, headers, page = _request(anonymous, f"{base}/no-such-page/")
    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert "Page not found" in page and "/no-such-page/" in page and "Your Bots" in page
    assert "Using the URLconf" not in page  # not Django's DEBUG page

    status, headers, body = _request(anonymous, f"{base}/api/no/such/endpoint")
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "success": False,
        "error": "No endpoint at /api/no/such/endpoint.",
        "errors": {},
    }
