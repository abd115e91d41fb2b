"""The old system's trade files imported as completed sessions (the `import_legacy_trades`
command): its history stays readable, and comparable, beside the sessions run here."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
from django.db import IntegrityError, transaction
from django.utils import timezone

from bots.candles import timeframe_seconds
from bots.metrics import compute_metrics
from sessions_app.errors import InvalidInput
from sessions_app.list_totals import sessions_changed
from sessions_app.models import Run, Session, SessionType, Status, Trade
from sessions_app.services.events import event_record
from sessions_app.services.progress import session_results_save
from sessions_app.services.runs import config_hash
from sessions_app.services.trades import trades_file_write, trades_insert
from sessions_app.services.validation import config_clean, name_generate, text_clean
from strategies_app.models import Market

# Above this a numeric time is in milliseconds (1e11 s is the year 5138), as bots.csv_import.
MS_THRESHOLD = 10**11
# Problems listed in InvalidInput.errors at most (the message names the first).
MAX_LISTED_ERRORS = 50
# A scraper records candles, it has no trades to import.
IMPORTED_TYPES = (SessionType.TEST, SessionType.BACKTEST)

# (our column, the old system's camelCase name, our API's snake_case name)
NUMBER_FIELDS = (
    ("entry_time", "entryTimestamp", "entry_time"),
    ("entry_price", "entryPrice", "entry_price"),
    ("entry_size", "entrySize", "entry_size"),
    ("exit_time", "exitTimestamp", "exit_time"),
    ("exit_price", "exitPrice", "exit_price"),
    ("exit_size", "exitSize", "exit_size"),
    ("realized_pnl", "realizedPnl", "realized_pnl"),
)
CAMEL_NAMES = {camel for _, camel, _ in NUMBER_FIELDS}
SNAKE_NAMES = {snake for _, _, snake in NUMBER_FIELDS}


@dataclass(frozen=True)
class LegacyTrade:
    """One validated entry: times in Unix seconds, sizes positive, numbers exact."""

    market: str
    side: str
    entry_time: int
    entry_price: Decimal
    entry_size: Decimal
    exit_time: int
    exit_price: Decimal
    exit_size: Decimal
    realized_pnl: Decimal
    fee: Decimal

    @property
    def run_pnl(self) -> float:  # what bots.metrics.compute_metrics reads of a trade
        return float(self.realized_pnl)


def legacy_trades_import(
    *,
    content: bytes,
    filename: str,
    session_type: str,
    market: str,
    name: str | None = None,
    exchange: str | None = None,
    strategy: str = "TestBot",
    user=None,
) -> tuple[Session, bool]:
    """A legacy trades file as one `completed` session with one run; (session, created now).

    `content` is a JSON list of trades, or `{"trades": [...]}`, each entry in the old system's shape
    (entryTimestamp, entryPrice, entrySize, exitTimestamp, exitPrice, exitSize, realizedPnl)
    or in our API's snake_case (entry_time, ..., realized_pnl, optional fee and market); numbers
    may be strings. Times are Unix seconds, or milliseconds when above 1e11. Sizes may be
    negative (short) and are stored positive. realizedPnl is taken as it is (PnL net of fees,
    in the market's settle currency), never recomputed from the prices.

    Side rule, when an entry has no `side` ("long" or "short"): the trade is long when its
    realized PnL has the sign of the price move (exit - entry), short when it has the opposite
    sign; when that is undecidable (zero PnL or no price move) a negative entry size means
    short; otherwise long.

    Every entry is checked before anything is written: a malformed file is refused whole with
    InvalidInput naming the entry (1-based) and the field. The file's sha256 is recorded on the
    session: importing the same bytes again returns that session unchanged (created False).
    """
    digest = hashlib.sha256(content).hexdigest()
    existing = Session.objects.filter(import_sha256=digest).first()
    if existing is not None:
        return existing, False

    if session_type not in IMPORTED_TYPES:
        raise InvalidInput.from_errors(
            {"type": [f"Must be one of {', '.join(IMPORTED_TYPES)} (got {session_type!r})."]}
        )
    config_data: dict[str, Any] = {
        "type": session_type,
        "market": market,
        "exchange": exchange,
        "strategy": strategy,
    }
    # Type, market, exchange and strategy first, so that a wrong --market is told as such
    # rather than as every entry's market not matching it (the range is checked below).
    provisional_range = {"range_start": 0, "range_end": 1} if session_type == SessionType.BACKTEST else {}
    config = config_clean({**config_data, **provisional_range})
    text = text_clean({"name": name}) if name is not None else {}
    trades = legacy_trades_parse(content=content, markets=config["market"].split("+"))
    if session_type == SessionType.BACKTEST:
        # The range covers every trade: from the first entry to one candle after the last exit
        # (the exit's candle included), but never in the future, which _clean_config refuses.
        first_entry = min(t.entry_time for t in trades)
        last_exit = max(t.exit_time for t in trades)
        range_end = min(last_exit + timeframe_seconds(config["timeframe"]), int(timezone.now().timestamp()))
        config = config_clean(
            {**config_data, "range_start": first_entry, "range_end": max(range_end, first_entry + 1)}
        )

    try:
        with transaction.atomic():
            session = _session_create(
                config=config,
                name=text.get("name") or f"{name_generate(config)} (imported)",
                filename=filename,
                digest=digest,
                trades=trades,
                user=user,
            )
    except IntegrityError:
        # A concurrent import of the same file committed first: the unique import_sha256
        # refused ours (everything of it rolled back); answer with theirs.
        existing = Session.objects.filter(import_sha256=digest).first()
        if existing is None:
            raise
        return existing, False
    return session, True


def legacy_trades_parse(*, content: bytes, markets: list[str]) -> list[LegacyTrade]:
    """Every entry of the file checked; InvalidInput names each bad entry (1-based) and field."""
    try:
        document = json.loads(content.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise InvalidInput.from_errors({"file": ["Not UTF-8 text."]}) from None
    except ValueError as exc:
        raise InvalidInput.from_errors({"file": [f"Not JSON ({exc})."]}) from None
    if isinstance(document, dict) and "trades" in document:
        document = document["trades"]
    if not isinstance(document, list):
        raise InvalidInput.from_errors({"file": ['Must be a JSON list of trades, or {"trades": [...]}.']})
    if not document:
        raise InvalidInput.from_errors({"file": ["Holds no trades (an empty list)."]})

    trades: list[LegacyTrade] = []
    errors: dict[str, list[str]] = {}
    now = int(timezone.now().timestamp())
    for number, entry in enumerate(document, start=1):
        try:
            trades.append(_entry_parse(entry, markets=markets, now=now))
        except _EntryError as exc:
            errors[f"entry {number}: {exc.field}" if exc.field else f"entry {number}"] = [exc.message]
    if errors:
        listed = dict(list(errors.items())[:MAX_LISTED_ERRORS])
        first = InvalidInput.from_errors(listed).message
        more = len(errors) - 1
        message = (
            f"{first.rstrip('.')} (and {more} more problem{'s' if more != 1 else ''})." if more else first
        )
        raise InvalidInput(message, listed)
    return trades


class _EntryError(Exception):
    def __init__(self, field: str | None, message: str):
        super().__init__(message)
        self.field, self.message = field, message


def _entry_parse(entry: Any, *, markets: list[str], now: int) -> LegacyTrade:
    if not isinstance(entry, dict):
        raise _EntryError(None, f"Must be an object (got {_shown(entry)}).")
    # Field names in the error are the entry's own: snake_case when it uses our API's names.
    snake = not CAMEL_NAMES & entry.keys() and bool(SNAKE_NAMES & entry.keys())
    values: dict[str, Decimal] = {}
    for column, camel, snake_name in NUMBER_FIELDS:
        field = snake_name if snake else camel
        raw = entry.get(field, entry.get(snake_name if not snake else camel))
        if raw is None:
            raise _EntryError(field, "This field is required.")
        value = _number(raw)
        if column.endswith("_price") and (value is None or value <= 0):
            raise _EntryError(field, f"Must be a positive number (got {_shown(raw)}).")
        if column.endswith("_time") and (value is None or value <= 0):
            raise _EntryError(field, f"Must be a Unix time in s or ms (got {_shown(raw)}).")
        if value is None:
            raise _EntryError(field, f"Must be a number (got {_shown(raw)}).")
        if column == "entry_size" and value == 0:
            raise _EntryError(field, "Must not be 0.")
        if column.endswith("_time"):
            value = value / 1000 if value > MS_THRESHOLD else value
            if value > now:
                raise _EntryError(field, f"Must not be in the future (got {_shown(raw)}).")
        values[column] = value
    exit_field = "exit_time" if snake else "exitTimestamp"
    if values["exit_time"] < values["entry_time"]:
        raise _EntryError(exit_field, "Must not be before the entry time.")

    fee = Decimal(0)
    if entry.get("fee") is not None:
        fee = _number(entry["fee"])
        if fee is None:
            raise _EntryError("fee", f"Must be a number (got {_shown(entry['fee'])}).")

    trade_market = entry.get("market")
    if trade_market is None:
        trade_market = markets[0] if markets else ""
    elif not isinstance(trade_market, str) or (markets and trade_market not in markets):
        raise _EntryError(
            "market", f"Must be {' or '.join(markets)}, the session's market (got {_shown(trade_market)})."
        )

    side = entry.get("side")
    if side is None:
        side = _side_derived(values)
    elif not isinstance(side, str) or side.strip().lower() not in ("long", "short"):
        raise _EntryError("side", f'Must be "long" or "short" (got {_shown(side)}).')
    else:
        side = side.strip().lower()

    return LegacyTrade(
        market=trade_market,
        side=side,
        entry_time=int(values["entry_time"]),
        exit_time=int(values["exit_time"]),
        entry_price=values["entry_price"],
        exit_price=values["exit_price"],
        entry_size=abs(values["entry_size"]),
        exit_size=abs(values["exit_size"]),
        realized_pnl=values["realized_pnl"],
        fee=fee,
    )


def _side_derived(values: dict[str, Decimal]) -> str:
    """The side rule of legacy_trades_import's docstring."""
    move = (values["exit_price"] - values["entry_price"]).compare(0)
    pnl = values["realized_pnl"].compare(0)
    if move != 0 and pnl != 0:
        return "long" if move == pnl else "short"
    return "short" if values["entry_size"] < 0 else "long"


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal, str)):
        return None
    try:
        number = Decimal(value.strip() if isinstance(value, str) else value)
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def _shown(value: Any) -> str:
    """A value as the file wrote it (strings quoted), cut short."""
    text = str(value) if isinstance(value, Decimal) else json.dumps(value, default=str)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _session_create(
    *, config: dict[str, Any], name: str, filename: str, digest: str, trades: list[LegacyTrade], user
) -> Session:
    """The session, its run, trades, metrics, events and trades file (inside the caller's
    transaction)."""
    started = datetime.fromtimestamp(min(t.entry_time for t in trades), tz=UTC)
    stopped = datetime.fromtimestamp(max(t.exit_time for t in trades), tz=UTC)
    session = Session(
        **config,
        name=name,
        notes=f"Imported from {filename} (sha256 {digest}).",
        status=Status.COMPLETED,
        started_at=started,
        stopped_at=stopped,
        # Progress counts the imported trades: all of them are done.
        progress_done=len(trades),
        progress_total=len(trades),
        import_sha256=digest,
        created_by=user if user and user.is_authenticated else None,
    )
    session.save()
    sessions_changed()
    params = session.strategy_params or {}
    run = Run.objects.create(
        session=session,
        config_hash=config_hash(session, params),
        params=params,
        status=Status.COMPLETED,
        started_at=started,
        stopped_at=stopped,
    )
    rows = [
        (
            run.pk,
            t.market,
            t.side,
            t.entry_time,
            float(t.entry_price),
            float(t.entry_size),
            t.exit_time,
            float(t.exit_price),
            float(t.exit_size),
            float(t.realized_pnl),
            float(t.fee),
            # The old system closed every trade on a signal and knew no funding.
            Trade.ExitReason.SIGNAL.value,
            0.0,
        )
        for t in trades
    ]
    trades_insert(rows)
    metrics, equity = _metrics(session=session, trades=trades)
    session_results_save(session=session, run=run, metrics=metrics, equity=equity)
    story = {"imported_from": filename, "sha256": digest, "trades": len(trades)}
    event_record(session=session, event_type="created", data={"name": session.name, **story})
    event_record(
        session=session,
        event_type="completed",
        data={
            **story,
            "trade_count": metrics["trade_count"],
            "metrics": {k: v for k, v in metrics.items() if not isinstance(v, (list, dict))},
        },
    )
    trades_file_write(session=session, rows=rows)
    session.refresh_from_db()
    return session


def _metrics(*, session: Session, trades: list[LegacyTrade]) -> tuple[dict[str, Any], list]:
    """The metrics every session shows (bots.metrics), from the trades alone: equity is the
    initial balance plus the cumulative realized PnL at each exit (no candles to mark to market)."""
    by_exit = sorted(trades, key=lambda t: (t.exit_time, t.entry_time))
    initial = float(session.initial_balance)
    total = sum((t.realized_pnl for t in trades), Decimal(0))
    times = np.array([t.exit_time for t in by_exit], dtype=np.int64)
    equity = initial + np.cumsum([float(t.realized_pnl) for t in by_exit])
    span = max(1, int(times[-1]) - min(t.entry_time for t in trades))
    candle = timeframe_seconds(session.timeframe)
    market = Market.objects.filter(exchange=session.exchange, symbol=session.market_legs[0]).first()
    metrics = compute_metrics(
        trades=trades,
        times=times,
        equity=equity,
        initial_balance=initial,
        currency=market.settle if market else "",
        fees_paid=float(sum((t.fee for t in trades), Decimal(0))),
        exposed_candles=_covered_seconds(trades) // candle,
        candles=max(1, span // candle),
    )
    # The file's own sum, not equity arithmetic in floats.
    metrics["total_pnl"] = float(total)
    metrics["final_equity"] = float(session.initial_balance + total)
    metrics["return_pct"] = float(total / session.initial_balance * 100)
    metrics["imported"] = True
    return metrics, [[int(t), float(v)] for t, v in zip(times, equity, strict=True)]


def _covered_seconds(trades: list[LegacyTrade]) -> int:
    """Seconds during which at least one trade was open (overlaps counted once)."""
    covered, end = 0, None
    for trade in sorted(trades, key=lambda t: t.entry_time):
        start = trade.entry_time if end is None else max(trade.entry_time, end)
        if trade.exit_time > start:
            covered += trade.exit_time - start
        end = trade.exit_time if end is None else max(end, trade.exit_time)
    return covered
