"""`manage.py check --deploy --fail-level WARNING` with the production variables (docs/operations.md)."""

from __future__ import annotations

import os
import subprocess
import sys

from django.core.management.utils import get_random_secret_key

from tests.worker_fixtures import ROOT

# Set by a developer's shell or bin/run for plain HTTP (the check is about the defaults), or by
# the browser tests for Playwright (tests/browser/conftest.py): not a deployment's.
OVERRIDES = (
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "SECURE_SSL_REDIRECT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
)


def _check_deploy(**variables: str) -> subprocess.CompletedProcess:
    env = {key: value for key, value in os.environ.items() if key not in OVERRIDES}
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY=get_random_secret_key(),
        ALLOWED_HOSTS="trading.example.com",
        **variables,
    )
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_it_passes_with_debug_off():
    result = _check_deploy(DEBUG="false")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_fails_with_debug_on():
    result = _check_deploy(DEBUG="true")

    assert result.returncode != 0
    assert "security.W018" in result.stderr  # DEBUG in deployment
