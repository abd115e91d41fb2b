"""manage.py backtest: one run in the terminal, metrics printed, nothing recorded."""

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import Session

pytestmark = pytest.mark.django_db


def test_it_runs_a_sim_backtest_and_prints_its_metrics(capsys):
    call_command(
        "backtest",
        "--strategy",
        "SmaCross",
        "--market",
        "ETHUSD",
        "--start",
        "2026-01-01",
        "--end",
        "2026-01-03",
        "--params",
        '{"n1": 5, "n2": 30}',
    )

    out = capsys.readouterr().out
    assert "trade_count" in out and "currency: USD" in out
    assert "2,880 in" in out  # two days of 1m candles
    assert not Session.objects.exists()


def test_bad_params_name_the_field():
    with pytest.raises(CommandError, match="n2"):
        call_command(
            "backtest",
            "--strategy",
            "SmaCross",
            "--start",
            "2026-01-01",
            "--end",
            "2026-01-02",
            "--params",
            '{"n1": 40, "n2": 30}',
        )
