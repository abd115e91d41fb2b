"""Reading settings from the environment: one `env`, and errors that name the variable."""

from __future__ import annotations

import os
import secrets
import tempfile
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
        if not sep or key not in limits or not value.strip().isdecimal():
            raise ImproperlyConfigured(
                f"{name} is malformed ({raw!r}): expected e.g. test=3,backtest=1,scraper=5"
            )
        limits[key] = int(value)
    return limits


def secret_key(name: str, var_dir: Path) -> str:
    """The key from the environment, else one generated once into `var_dir/secret_key` (0600).

    Web, worker and beat may start at the same moment: the key is written to a private temp
    file and linked into place, so the first one wins and nobody reads a half-written file.
    """
    value = env.str(name, default="")
    if value:
        return value
    key_file = var_dir / "secret_key"
    if not key_file.exists():
        var_dir.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=var_dir, prefix=".secret_key.")  # created 0600
        try:
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(50))
            os.link(temp, key_file)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    key = key_file.read_text().strip()
    if not key:
        raise ImproperlyConfigured(
            f"{name} is unset and {key_file} is empty: delete it to generate a new key"
        )
    return key


def redis_cache(url: str, prefix: str) -> dict[str, Any]:
    """The cache on Redis. Redis down must not take pages or runners with it: a
    failed cache call answers as a miss (reads fall back to the database) and is logged, at
    most once a minute (config.logs.OncePerMinute); short timeouts so a dead Redis costs a
    request well under a second."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": url,
        "KEY_PREFIX": prefix,
        "OPTIONS": {"IGNORE_EXCEPTIONS": True, "SOCKET_CONNECT_TIMEOUT": 0.5, "SOCKET_TIMEOUT": 0.5},
    }
