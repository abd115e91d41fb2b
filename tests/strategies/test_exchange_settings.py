"""The exchange settings come from the registry: the choices, and each URL from the
environment variable its class names (BITMEX_URL, BINANCE_URL)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bots.exchanges.registry import exchange_classes, exchange_names
from strategies_app.market_data import exchange_get

ROOT = Path(__file__).resolve().parents[2]


def _settings(tmp_path, **variables: str) -> subprocess.CompletedProcess:
    """Import config.settings in a fresh process with `variables` in its environment; print
    its EXCHANGES, DEFAULT_EXCHANGE and EXCHANGE_URLS."""
    names = [cls.url_setting for cls in exchange_classes().values() if cls.url_setting]
    env = {key: value for key, value in os.environ.items() if key not in ("DEFAULT_EXCHANGE", *names)}
    env.update(VAR_DIR=str(tmp_path), SECRET_KEY="x" * 50, **variables)
    script = (
        "import json, config.settings as s\n"
        "print(json.dumps([s.EXCHANGES, s.DEFAULT_EXCHANGE, s.EXCHANGE_URLS]))\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


def test_the_urls_are_read_from_the_settings_the_classes_name(tmp_path):
    result = _settings(tmp_path, BITMEX_URL="http://127.0.0.1:9001", BINANCE_URL="http://127.0.0.1:9002")

    assert result.returncode == 0, result.stderr
    exchanges, default, urls = json.loads(result.stdout)
    assert tuple(exchanges) == exchange_names() and default == "sim"
    assert urls == {"bitmex": "http://127.0.0.1:9001", "binance": "http://127.0.0.1:9002"}


def test_a_default_exchange_that_is_not_registered_fails_at_start(tmp_path):
    result = _settings(tmp_path, DEFAULT_EXCHANGE="kraken")

    assert result.returncode != 0
    assert "DEFAULT_EXCHANGE is malformed ('kraken'): one of sim, bitmex, binance, local" in result.stderr


def test_exchange_get_points_an_exchange_with_a_url_setting_at_its_url(settings):
    settings.EXCHANGE_URLS = {**settings.EXCHANGE_URLS, "bitmex": "http://127.0.0.1:9/"}

    assert exchange_get("bitmex").base_url == "http://127.0.0.1:9"
    assert exchange_get("sim").name == "sim" and exchange_get("local").name == "local"
    with pytest.raises(KeyError, match="kraken"):
        exchange_get("kraken")
