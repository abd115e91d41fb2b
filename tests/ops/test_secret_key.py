"""config.env.secret_key: SECRET_KEY when set, else one key generated once into var/secret_key."""

from __future__ import annotations

import stat

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import secret_key


def test_it_generates_a_private_key_once_and_reuses_it(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    var_dir = tmp_path / "var"

    first = secret_key("SECRET_KEY", var_dir)
    again = secret_key("SECRET_KEY", var_dir)

    assert first == again
    assert len(first) >= 50
    assert (var_dir / "secret_key").read_text() == first
    assert stat.S_IMODE((var_dir / "secret_key").stat().st_mode) == 0o600
    assert [p.name for p in var_dir.iterdir()] == ["secret_key"]  # no temp file left


def test_the_environment_wins_and_writes_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")

    assert secret_key("SECRET_KEY", tmp_path) == "from-the-environment"
    assert not (tmp_path / "secret_key").exists()


def test_an_empty_key_file_is_refused_by_name(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    (tmp_path / "secret_key").write_text("")

    with pytest.raises(ImproperlyConfigured, match="SECRET_KEY"):
        secret_key("SECRET_KEY", tmp_path)
