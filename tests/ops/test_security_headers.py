"""The Content-Security-Policy on every answer, and X-Forwarded-Proto trusted only with
BEHIND_PROXY=true (a client without a proxy in front could otherwise claim https)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from django.test import Client

from tests.worker_fixtures import ROOT

POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'; form-action 'self'"
)


def test_the_login_page_the_dashboard_the_admin_and_the_api_carry_the_policy(operator):
    anonymous = Client()
    assert anonymous.get("/accounts/login/")["Content-Security-Policy"] == POLICY
    assert anonymous.get("/api/sessions")["Content-Security-Policy"] == POLICY

    client = Client()
    client.force_login(operator)
    for path in ("/", "/scrapers/", "/history/", "/admin/login/"):
        response = client.get(path)
        assert response.status_code in (200, 302), path
        assert response["Content-Security-Policy"] == POLICY, path


def _is_secure(**variables: str) -> str:
    """request.is_secure() of a plain-HTTP request saying X-Forwarded-Proto: https, under the
    production settings (DEBUG off) with `variables`."""
    env = {key: value for key, value in os.environ.items() if key not in ("BEHIND_PROXY", "DEBUG")}
    env.update(DJANGO_SETTINGS_MODULE="config.settings", DEBUG="false", SECRET_KEY="x" * 50, **variables)
    script = (
        "import django; django.setup()\n"
        "from django.test import RequestFactory\n"
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize("behind_proxy,secure", [(None, "False"), ("false", "False"), ("true", "True")])
def test_x_forwarded_proto_counts_only_behind_a_proxy(behind_proxy, secure):
    variables = {"BEHIND_PROXY": behind_proxy} if behind_proxy is not None else {}

    assert _is_secure(**variables) == secure
