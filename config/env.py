"""Reading settings from the environment: one `env`, and errors that name the variable."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

import environ
from django.core.exceptions import ImproperlyConfigured

env = environ.Env()


def read(name: str, parse: Callable[..., Any], default: Any) -> Any:
    """`parse(name, default=...)` with a malformed value reported by name at start-up."""
    try:
        return parse(name, default=default)
    except ImproperlyConfigured:
        raise
    except Exception as exc:  # environ raises ValueError/KeyError with no variable name
        raise ImproperlyConfigured(f"{name} is malformed ({env.str(name, default='')!r}): {exc}") from exc


def session_limits(name: str, default: str) -> dict[str, int]:
    """`test=3,backtest=1,scraper=5` -> {"test": 3, ...}; unknown types and bad numbers fail."""
    raw = env.str(name, default=default)
    limits = {"test": 3, "backtest": 1, "scraper": 5}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or key not in limits or not value.strip().isdigit():
            raise ImproperlyConfigured(
                f"{name} is malformed ({raw!r}): expected e.g. test=3,backtest=1,scraper=5"
            )
        limits[key] = int(value)
    return limits


def secret_key(name: str, var_dir: Path, debug: bool) -> str:
    """The key from the environment; in DEBUG a dev key kept under var/ is generated."""
    value = env.str(name, default="")
    if value:
        return value
    if not debug:
        raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(50))
        key_file.chmod(0o600)
    return key_file.read_text().strip()
