"""An archive written before the account fields existed (no leverage, sizing, maintenance
margin or funding on the session; no exit_reason or funding on its trades) still restores,
with the values the engine of its time stood for."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal

import pytest

from sessions_app import services
from sessions_app.models import Session, Trade
from tests.sessions.archive_helpers import finish

SESSION_ADDED = ("leverage", "sizing", "maintenance_margin_pct", "funding")
TRADE_ADDED = ("exit_reason", "funding")


@pytest.fixture(autouse=True)
def _room_for_sessions(session_limits, data_root):
    """Several test sessions at once; every file under a private DATA_ROOT."""


def _as_before_the_account(path) -> None:
    """The archive rewritten as the format was before the account fields."""
    document = json.loads(gzip.decompress(path.read_bytes()))
    for name in SESSION_ADDED:
        del document["session"][name]
    drop = [document["trade_columns"].index(name) for name in TRADE_ADDED]
    document["trade_columns"] = [c for i, c in enumerate(document["trade_columns"]) if i not in drop]
    document["trades"] = [[v for i, v in enumerate(row) if i not in drop] for row in document["trades"]]
    path.write_bytes(gzip.compress(json.dumps(document).encode()))


def test_an_archive_from_before_the_account_fields_restores_with_their_old_meaning(make_session, tmp_path):
    session = finish(make_session, trades=4, leverage=3)
    result = services.sessions_cleanup(older_than_days=0, archive_dir=tmp_path / "cold")
    path = result.files[0]
    _as_before_the_account(path)

    restored = services.session_restore(path=path)

    assert restored.pk == session.pk
    assert (restored.leverage, restored.sizing, restored.maintenance_margin_pct, restored.funding) == (
        Decimal(1),
        "units",
        None,
        False,
    )
    trades = Trade.objects.filter(run__session=restored)
    assert trades.count() == 4
    assert set(trades.values_list("exit_reason", flat=True)) == {"signal"}
    assert set(trades.values_list("funding", flat=True)) == {Decimal(0)}
    written = json.loads(open(Session.objects.get(pk=session.pk).trades_file).read())
    assert {t["exit_reason"] for run in written["runs"] for t in run["trades"]} == {"signal"}


def test_a_current_archive_keeps_the_account_and_the_exit_reasons(make_session, tmp_path):
    session = finish(make_session, trades=4, leverage=3, sizing="notional", funding=True)
    path = services.sessions_cleanup(older_than_days=0, archive_dir=tmp_path / "cold").files[0]

    restored = services.session_restore(path=path)

    assert (restored.leverage, restored.sizing, restored.funding) == (Decimal(3), "notional", True)
    reasons = list(
        Trade.objects.filter(run__session=session)
        .order_by("entry_time")
        .values_list("exit_reason", flat=True)
    )
    assert reasons == ["signal", "end", "liquidation", "signal"]
