"""config.env: settings parsed from the environment fail loudly, naming the variable."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import read, session_limits

DEFAULT = "test=3,backtest=1,scraper=5"


def test_session_limits_default_to_the_seeds_recommendation(monkeypatch):
    monkeypatch.delenv("SESSION_LIMITS", raising=False)

    assert session_limits("SESSION_LIMITS", DEFAULT) == {"test": 3, "backtest": 1, "scraper": 5}


def test_session_limits_override_only_the_types_given(monkeypatch):
    monkeypatch.setenv("SESSION_LIMITS", " test=2 , scraper=7 ")

    assert session_limits("SESSION_LIMITS", DEFAULT) == {"test": 2, "backtest": 1, "scraper": 7}


@pytest.mark.parametrize("raw", ["test=x", "test", "paper=2", "test=-1", "test=2,backtest=one"])
def test_session_limits_refuse_malformed_values_naming_the_variable(monkeypatch, raw):
    monkeypatch.setenv("SESSION_LIMITS", raw)

    with pytest.raises(ImproperlyConfigured) as refused:
        session_limits("SESSION_LIMITS", DEFAULT)

    assert "SESSION_LIMITS" in str(refused.value)
    assert raw in str(refused.value)


def test_a_malformed_number_names_its_variable(monkeypatch):
    from config.env import env

    monkeypatch.setenv("STALE_AFTER_SECONDS", "soon")

    with pytest.raises(ImproperlyConfigured, match="STALE_AFTER_SECONDS"):
        read("STALE_AFTER_SECONDS", env.int, 30)
