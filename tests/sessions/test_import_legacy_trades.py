"""`manage.py import_legacy_trades`: the old system's trade files as completed sessions."""

from __future__ import annotations

import copy
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from sessions_app.models import Run, Session, SessionEvent, Trade
from sessions_app.services.legacy import legacy_trades_parse

FIXTURES = Path(__file__).parent / "fixtures"
SEED_FILE = FIXTURES / "legacy_test_trades.json"
API_FILE = FIXTURES / "legacy_api_trades.json"
CENT = Decimal("0.00000001")


@pytest.fixture(autouse=True)
def _data_root(data_root):
    """Trades files go to a temporary DATA_ROOT."""
    return data_root


def seed_entries() -> list[dict]:
    return json.loads(SEED_FILE.read_text(), parse_float=Decimal)


def write(tmp_path: Path, document, name: str = "trades.json") -> Path:
    path = tmp_path / name
    path.write_text(document if isinstance(document, str) else json.dumps(document, default=str))
    return path


def run_import(path: Path, *args: str) -> tuple[Session | None, str]:
    out = io.StringIO()
    call_command("import_legacy_trades", str(path), *args, stdout=out)
    session = Session.objects.filter(import_sha256__isnull=False).order_by("-created_at").first()
    return session, out.getvalue()


def import_as_test(path: Path, *args: str) -> tuple[Session, str]:
    return run_import(path, "--type", "test", "--market", "XBTUSD", *args)


def api_trades(operator_api, session_id: str) -> list[dict]:
    response = operator_api.get(f"/api/sessions/{session_id}/trades?limit=200")
    assert response.status_code == 200, response.content[:500]
    body = response.json()
    assert body["total"] == len(body["trades"])
    return body["trades"]


# --- the old system's file (camelCase) ------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_the_seed_file_as_one_completed_session_with_one_run(operator_api):
    entries = seed_entries()
    expected_pnl = sum((e["realizedPnl"] for e in entries), Decimal(0))

    session, out = import_as_test(SEED_FILE, "--name", "March 2024 live test")

    assert session.status == "completed" and session.type == "test" and session.market == "XBTUSD"
    assert session.name == "March 2024 live test"
    assert "legacy_test_trades.json" in session.notes
    run = Run.objects.get(session=session)
    assert run.status == "completed"
    assert run.trade_count == session.trade_count == len(entries) == 20
    assert run.total_pnl == session.total_pnl == expected_pnl.quantize(CENT)
    assert run.metrics["currency"] == "XBT"
    assert session.started_at.timestamp() == entries[0]["entryTimestamp"] // 1000
    assert session.stopped_at.timestamp() == entries[-1]["exitTimestamp"] // 1000
    assert out.strip() == (
        f"Imported 20 trades from {SEED_FILE} as session {session.pk} (March 2024 live test); "
        f"total PnL {expected_pnl.quantize(CENT).normalize():f} XBT"
    )


@pytest.mark.django_db
def test_its_trades_read_through_the_api_are_the_files_entries(operator_api):
    entries = seed_entries()
    session, _ = import_as_test(SEED_FILE)

    trades = api_trades(operator_api, session.pk)

    assert len(trades) == len(entries)
    for entry, trade in zip(entries, trades, strict=True):
        # The fixture's sizes carry the true side (negative: short); entries without `side`
        # get it from the PnL move, which must agree.
        true_side = "short" if entry["entrySize"] < 0 else "long"
        assert trade["side"] == entry.get("side", true_side) == true_side
        assert trade["market"] == "XBTUSD"
        assert trade["entry_time"] == entry["entryTimestamp"] // 1000
        assert trade["exit_time"] == entry["exitTimestamp"] // 1000
        assert trade["entry_price"] == float(entry["entryPrice"])
        assert trade["exit_price"] == float(entry["exitPrice"])
        assert trade["entry_size"] == abs(entry["entrySize"]) > 0
        assert trade["exit_size"] == abs(entry["exitSize"]) > 0
        assert Decimal(str(trade["realized_pnl"])) == entry["realizedPnl"]
        assert trade["fee"] == 0


@pytest.mark.django_db
def test_its_metrics_come_from_the_files_pnl(operator_api):
    entries = seed_entries()
    session, _ = import_as_test(SEED_FILE)
    run = session.runs.get()

    pnls = [e["realizedPnl"] for e in entries]
    wins = [p for p in pnls if p > 0]
    assert float(run.win_rate) == pytest.approx(len(wins) / len(pnls) * 100, abs=0.01)
    equity, peak, worst_fall = Decimal(1), Decimal(1), Decimal(0)  # initial balance 1 XBT
    for pnl in pnls:
        equity += pnl
        peak = max(peak, equity)
        worst_fall = max(worst_fall, (peak - equity) / peak)
    assert worst_fall > 0
    assert float(run.max_drawdown) == pytest.approx(float(worst_fall * 100), abs=1e-4)
    assert run.metrics["best_trade"] == pytest.approx(float(max(pnls)))
    assert run.metrics["worst_trade"] == pytest.approx(float(min(pnls)))
    assert run.metrics["profit_factor"] == pytest.approx(float(sum(wins) / -sum(p for p in pnls if p < 0)))
    assert run.metrics["fees_paid"] == 0
    assert len(run.equity) == len(entries)


@pytest.mark.django_db
def test_it_records_the_story_and_the_trades_file(data_root):
    session, _ = import_as_test(SEED_FILE)

    events = list(session.events.values_list("event_type", "event_data"))
    assert [kind for kind, _ in events] == ["created", "completed"]
    for _, data in events:
        assert data["imported_from"] == "legacy_test_trades.json"
        assert data["sha256"] == session.import_sha256 and len(session.import_sha256) == 64
        assert data["trades"] == 20
    written = json.loads(Path(session.trades_file).read_text())
    assert Path(session.trades_file).parent == Path(data_root) / "trades"
    assert written["session_id"] == session.pk
    assert [len(run["trades"]) for run in written["runs"]] == [20]


@pytest.mark.django_db
def test_the_session_is_listed_as_completed(operator_api):
    session, _ = import_as_test(SEED_FILE)

    response = operator_api.get("/api/sessions?status=completed")

    assert response.status_code == 200
    listed = {s["id"]: s for s in response.json()["sessions"]}
    assert listed[session.pk]["status"] == "completed"
    assert listed[session.pk]["trade_count"] == 20


@pytest.mark.django_db
def test_a_second_import_of_the_same_file_changes_nothing(row_counts):
    session, _ = import_as_test(SEED_FILE)
    before = row_counts()

    again, out = import_as_test(SEED_FILE, "--name", "another name")

    assert row_counts() == before
    assert again.pk == session.pk and again.name == session.name
    assert out.strip() == f"{SEED_FILE} was imported already as session {session.pk}; nothing changed."


# --- other shapes ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_takes_the_trades_wrapper(tmp_path, operator_api):
    entries = json.loads(SEED_FILE.read_text())
    session, _ = import_as_test(write(tmp_path, {"trades": entries}))

    assert session.trade_count == 20
    assert len(api_trades(operator_api, session.pk)) == 20


@pytest.mark.django_db
def test_it_takes_our_apis_snake_case_with_fees_and_numbers_as_strings(operator_api):
    document = json.loads(API_FILE.read_text(), parse_float=Decimal)
    session, _ = import_as_test(API_FILE)

    trades = api_trades(operator_api, session.pk)

    assert [t["side"] for t in trades] == [e["side"] for e in document["trades"]]
    assert [t["entry_time"] for t in trades] == [int(e["entry_time"]) for e in document["trades"]]
    assert [t["fee"] for t in trades] == [float(e["fee"]) for e in document["trades"]]
    assert {t["market"] for t in trades} == {"XBTUSD"}
    total = sum((Decimal(str(e["realized_pnl"])) for e in document["trades"]), Decimal(0))
    assert session.total_pnl == total
    fees = sum(Decimal(str(e["fee"])) for e in document["trades"])
    assert session.runs.get().metrics["fees_paid"] == pytest.approx(float(fees))


@pytest.mark.django_db
def test_seconds_and_milliseconds_give_the_same_times(tmp_path, operator_api):
    entries = json.loads(SEED_FILE.read_text())
    in_seconds = copy.deepcopy(entries)
    for entry in in_seconds:
        entry["entryTimestamp"] //= 1000
        entry["exitTimestamp"] //= 1000
    from_ms, _ = import_as_test(write(tmp_path, entries, "ms.json"))
    from_seconds, _ = import_as_test(write(tmp_path, in_seconds, "s.json"))

    times = [
        [(t["entry_time"], t["exit_time"]) for t in api_trades(operator_api, s.pk)]
        for s in (from_ms, from_seconds)
    ]
    assert times[0] == times[1]
    assert times[0][0] == (entries[0]["entryTimestamp"] // 1000, entries[0]["exitTimestamp"] // 1000)


@pytest.mark.django_db
def test_our_own_export_round_trips(tmp_path, operator_api):
    original, _ = import_as_test(SEED_FILE)
    response = operator_api.get(f"/api/sessions/{original.pk}/trades?limit=200")
    exported = write(tmp_path, response.content.decode(), "export.json")

    copy_of, _ = import_as_test(exported)

    assert copy_of.pk != original.pk
    assert copy_of.total_pnl == original.total_pnl and copy_of.trade_count == original.trade_count

    def without_ids(trades):
        return [{k: v for k, v in t.items() if k != "id"} for t in trades]

    assert without_ids(api_trades(operator_api, copy_of.pk)) == without_ids(
        api_trades(operator_api, original.pk)
    )


# --- the side rule --------------------------------------------------------------------------------


def entry(**fields) -> dict:
    return {
        "entryTimestamp": 1_710_000_000,
        "entryPrice": 60_000,
        "entrySize": 1000,
        "exitTimestamp": 1_710_003_600,
        "exitPrice": 61_000,
        "exitSize": 1000,
        "realizedPnl": 0.0002,
        **fields,
    }


@pytest.mark.parametrize(
    ("fields", "side"),
    [
        ({}, "long"),  # price up, pnl up
        ({"exitPrice": 59_000, "realizedPnl": -0.0002}, "long"),  # price down, pnl down
        ({"exitPrice": 59_000}, "short"),  # price down, pnl up
        ({"realizedPnl": -0.0002, "entrySize": 1000}, "short"),  # price up, pnl down; size ignored
        ({"realizedPnl": 0.0002, "entrySize": -1000}, "long"),  # the PnL move wins over the size
        ({"exitPrice": 60_000, "realizedPnl": 0, "entrySize": -1000}, "short"),  # undecidable
        ({"exitPrice": 60_000, "realizedPnl": 0}, "long"),  # undecidable, positive size
        ({"realizedPnl": 0, "entrySize": -5}, "short"),  # no PnL: the size decides
        ({"side": "SHORT"}, "short"),  # given: taken as it is
    ],
)
def test_the_side_comes_from_the_pnl_move_unless_given(fields, side):
    (trade,) = legacy_trades_parse(content=json.dumps([entry(**fields)]).encode(), markets=["XBTUSD"])

    assert trade.side == side
    assert trade.entry_size > 0


# --- refusals -------------------------------------------------------------------------------------


def _entries(count: int = 3) -> list[dict]:
    return [
        entry(entryTimestamp=1_710_000_000 + i * 7200, exitTimestamp=1_710_003_600 + i * 7200)
        for i in range(count)
    ]


def _with(number: int, **fields) -> list[dict]:
    entries = _entries()
    entries[number - 1].update(fields)
    return entries


def _without(number: int, field: str) -> list[dict]:
    entries = _entries()
    del entries[number - 1][field]
    return entries


@pytest.mark.parametrize(
    ("document", "named"),
    [
        ("this is not json", "file: Not JSON"),
        ('{"rows": []}', "file: Must be a JSON list"),
        ("42", "file: Must be a JSON list"),
        ("[]", "file: Holds no trades"),
        ({"trades": []}, "file: Holds no trades"),
        ([entry(), "a trade", entry()], "entry 2: Must be an object"),
        (_without(3, "exitPrice"), "entry 3: exitPrice: This field is required."),
        (_with(3, entryPrice="abc"), 'entry 3: entryPrice: Must be a positive number (got "abc")'),
        (_with(2, entryPrice=0), "entry 2: entryPrice: Must be a positive number (got 0)"),
        (_with(1, exitPrice=-5), "entry 1: exitPrice: Must be a positive number"),
        (_with(2, realizedPnl=None), "entry 2: realizedPnl: This field is required."),
        (_with(3, realizedPnl="lots"), 'entry 3: realizedPnl: Must be a number (got "lots")'),
        (_with(1, entrySize=True), "entry 1: entrySize: Must be a number (got true)"),
        (_with(2, side="buy"), 'entry 2: side: Must be "long" or "short" (got "buy")'),
        (_with(3, exitTimestamp=1_700_000_000), "entry 3: exitTimestamp: Must not be before the entry"),
        (_with(2, entryTimestamp=4_000_000_000), "entry 2: entryTimestamp: Must not be in the future"),
        (_with(1, fee="x"), 'entry 1: fee: Must be a number (got "x")'),
        (_with(2, market="ETHUSD"), "entry 2: market: Must be XBTUSD"),
        (
            [{"entry_time": 1_710_000_000, "entry_price": 60_000}],
            "entry 1: entry_size: This field is required.",
        ),
    ],
)
def test_a_malformed_file_is_refused_whole_naming_the_entry_and_field(tmp_path, row_counts, document, named):
    before = row_counts()
    path = write(tmp_path, document)

    with pytest.raises(CommandError) as refused:
        import_as_test(path)

    assert f"{path}: {named}" in str(refused.value)
    assert row_counts() == before
    assert not Session.objects.filter(import_sha256__isnull=False).exists()


@pytest.mark.django_db
def test_every_bad_entry_is_told_at_once(tmp_path):
    entries = _entries(4)
    entries[1]["entryPrice"] = "abc"
    entries[3]["side"] = "sideways"

    with pytest.raises(CommandError) as refused:
        import_as_test(write(tmp_path, entries))

    lines = str(refused.value).splitlines()
    assert lines[0].endswith(
        'entry 2: entryPrice: Must be a positive number (got "abc") (and 1 more problem).'
    )
    assert lines[1].strip() == 'entry 4: side: Must be "long" or "short" (got "sideways").'


@pytest.mark.django_db
def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="Cannot read .*nowhere.json"):
        import_as_test(tmp_path / "nowhere.json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "named"),
    [
        (["--type", "test", "--market", "NOPEUSD"], "market: Unknown market NOPEUSD on sim."),
        (["--type", "paper", "--market", "XBTUSD"], "type: Must be one of test, backtest (got 'paper')."),
        (["--type", "scraper", "--market", "XBTUSD"], "type: Must be one of test, backtest"),
        (["--type", "test", "--market", "XBTUSD", "--exchange", "kraken"], "exchange: Must be one of"),
        (
            ["--type", "test", "--market", "XBTUSD", "--strategy", "Nope"],
            "strategy: Unknown strategy 'Nope'.",
        ),
        (["--type", "test", "--market", "BTCUSDT"], "market: TestBot does not trade BTCUSDT"),
    ],
)
def test_a_bad_configuration_is_refused_naming_it(row_counts, settings, args, named):
    settings.DEFAULT_EXCHANGE = "sim"
    before = row_counts()

    with pytest.raises(CommandError) as refused:
        run_import(SEED_FILE, *args)

    assert named in str(refused.value)
    assert row_counts() == before


# --- backtests ------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_imports_a_backtest_with_the_files_range(operator_api):
    entries = seed_entries()

    session, out = run_import(SEED_FILE, "--type", "backtest", "--market", "XBTUSD")

    assert session.type == "backtest" and session.status == "completed"
    assert session.name == "BTC Backtest #1 (imported)"
    assert session.range_start == entries[0]["entryTimestamp"] // 1000
    assert session.range_end == entries[-1]["exitTimestamp"] // 1000 + 60
    assert session.trade_count == Trade.objects.filter(run__session=session).count() == 20
    assert out.startswith(f"Imported 20 trades from {SEED_FILE} as session {session.pk}")
    detail = operator_api.get(f"/api/sessions/{session.pk}").json()["session"]
    assert detail["range_end"] == session.range_end
    assert SessionEvent.objects.filter(session=session, event_type="completed").count() == 1


@pytest.mark.django_db
def test_a_backtest_range_ending_now_is_clamped(tmp_path):
    import time

    now = int(time.time())
    path = write(tmp_path, [entry(entryTimestamp=now - 3600, exitTimestamp=now - 5)])

    session, _ = run_import(path, "--type", "backtest", "--market", "XBTUSD")

    assert session.range_start == now - 3600
    assert now - 5 < session.range_end <= int(time.time())
