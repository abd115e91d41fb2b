"""Sessions, runs, trades, events, strategies and markets as plain dicts (times as Unix seconds,
decimals as numbers): what the API answers and what webhooks send.

Each object is declared once, as a `Shape`: the table of its fields, each with its type,
whether it can be null, what it means and where its value comes from. `Shape.build(obj)` makes
the answer's dict from the table (compiled into a plain dict literal, no serializer on the way:
a page of 50 sessions costs half a millisecond); the API makes the serializers of its OpenAPI
schema from the same tables (`sessions_app.api.serializers.serializer_for`), so what the schema
says and what an answer holds cannot part. A few shapes are built elsewhere (a session's
progress and summary, the engine's metrics) and only described here, beside the objects that
hold them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from bots.candles import TIMEFRAMES
from bots.exchanges.registry import exchange_names
from sessions_app.models import Run, Session, SessionEvent, SessionType, Sizing, Status, Trade
from strategies_app.models import Market, Strategy

SESSION_TYPES = SessionType.values
STATUSES = Status.values
TIMEFRAME_CHOICES = list(TIMEFRAMES)
EXCHANGE_CHOICES = list(exchange_names())  # the registry's, as validation reads them
TRADE_SIDES = Trade.Side.values
EXIT_REASONS = Trade.ExitReason.values
SIZINGS = Sizing.values
UNIX = "Unix seconds"


def unix(value: datetime | None) -> int | None:
    return int(value.timestamp()) if value else None


def number(value: Decimal | float | None) -> float | None:
    return float(value) if value is not None else None


# --- the declaration ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Choice:
    """A string from a fixed set (an enum in the schema)."""

    values: Sequence[str]


@dataclass(frozen=True)
class ListOf:
    item: Any


@dataclass(frozen=True)
class Schema:
    """A JSON value the kinds here do not spell, given as its OpenAPI schema (a sweep's lists)."""

    openapi: dict


@dataclass(frozen=True)
class Field:
    """One field of a shape.

    `kind`: str, int, float, bool, dict (a free-form object), a Choice, a ListOf, a Schema or
    another Shape. The value is the object's attribute `source` (default: the field's name),
    passed through `convert` when given; or `compute(obj)`; or, with `given`, what the caller
    hands to build() under the field's name. `optional`: the key may be absent (shapes built
    elsewhere, whose fields depend on what was computed).
    """

    name: str
    kind: Any
    help: str = ""
    nullable: bool = False
    source: str | None = None
    convert: Callable[[Any], Any] | None = None
    compute: Callable[[Any], Any] | None = None
    given: bool = False
    optional: bool = False

    def expression(self, index: int, helpers: dict[str, Callable]) -> str:
        """The Python expression of the value in the compiled builder (see Shape.build)."""
        if self.given:
            return f"given.get({self.name!r})"
        if self.compute is not None:
            helpers[f"_compute{index}"] = self.compute
            return f"_compute{index}(obj)"
        attribute = self.source or self.name
        if not attribute.isidentifier():
            raise ValueError(f"{self.name}: source {attribute!r} is not an attribute name")
        if self.convert is None:
            return f"obj.{attribute}"
        helpers[f"_convert{index}"] = self.convert
        return f"_convert{index}(obj.{attribute})"


# Compared by identity: a shape is one declaration, whatever its fields hold.
@dataclass(frozen=True, eq=False)
class Shape:
    """An answer's object: its name in the schema, what it is, its fields in answer order."""

    name: str
    doc: str
    fields: tuple[Field, ...]
    _builder: Callable[..., dict[str, Any]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_builder", self._compiled())

    def _compiled(self) -> Callable[..., dict[str, Any]]:
        """The dict literal a hand would write for the table, compiled once (as dataclasses
        write their __init__): as fast as a hand-written builder, a session in ~10 us where a
        loop over getters took half as long again, and a page holds 50 of them."""
        helpers: dict[str, Callable] = {}
        items = ", ".join(f"{f.name!r}: {f.expression(i, helpers)}" for i, f in enumerate(self.fields))
        namespace = dict(helpers)
        exec(f"def build(obj, given):\n    return {{{items}}}\n", namespace)
        return namespace["build"]

    def build(self, obj: Any, **given: Any) -> dict[str, Any]:
        """The object as the answer holds it: every field, in order (a `given` one from the
        keyword of its name, None when not given)."""
        return self._builder(obj, given)


def _num(name: str, help: str = "", **options) -> Field:
    """A decimal column answered as a number."""
    return Field(name, float, help, convert=number, **options)


def _time(name: str, help: str) -> Field:
    """A datetime column answered as Unix seconds; null until it happens."""
    return Field(name, int, f"{help} ({UNIX}); null until it happens.", nullable=True, convert=unix)


def _username(session: Session) -> str | None:
    return session.created_by.get_username() if session.created_by_id and session.created_by else None


SWEEP = Schema(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": {"type": "array", "minItems": 1, "items": {}},
        "description": "A backtest sweep: parameter name -> non-empty list of values; each "
        "combination is one run. Null when the session does not sweep.",
    }
)

# --- described here, built elsewhere -----------------------------------------------------------

ENGINE_METRICS = Shape(
    "EngineMetrics",
    "Every metric the engine computes for a run (bots.metrics.compute_metrics; docs/engine.md "
    "defines each). A metric that is undefined for the run is null: profit_factor without a "
    "losing trade, sharpe, sortino and calmar under two days of equity or without variance.",
    tuple(
        Field(name, kind, help, nullable=nullable, optional=True)
        for name, kind, help, nullable in (
            ("currency", str, "The currency PnL is counted in.", False),
            ("initial_balance", float, "", False),
            ("final_equity", float, "", False),
            ("total_pnl", float, "", False),
            ("return_pct", float, "total_pnl / initial_balance in percent.", False),
            ("trade_count", int, "Closed trades.", False),
            ("win_rate", float, "Winning trades in percent.", False),
            ("max_drawdown", float, "Largest fall of equity from a peak, in percent.", False),
            ("sharpe", float, "Annualised from daily mark-to-market returns; null: undefined.", True),
            ("sortino", float, "As sharpe, over the downside deviation; null when undefined.", True),
            ("calmar", float, "Annualised return / max drawdown; null when undefined.", True),
            ("profit_factor", float, "Gross wins / gross losses; null without a losing trade.", True),
            ("avg_trade", float, "", False),
            ("best_trade", float, "", False),
            ("worst_trade", float, "", False),
            ("fees_paid", float, "", False),
            ("exposure_pct", float, "Candles with a position open, in percent.", False),
            ("unrealized_pnl", float, "", False),
            ("candles", int, "", False),
            ("funding_paid", float, "Funding paid, in the run's currency (< 0: received).", False),
            ("liquidations", int, "Times the account was liquidated.", False),
            ("out_of_money", bool, "Equity could not buy one lot any more: the run stopped trading.", False),
            ("orders_reduced", int, "Orders cut to the margin available.", False),
            ("orders_skipped", int, "Orders not placed: no margin available for one lot.", False),
            ("leverage", float, "", False),
            ("sizing", Choice(SIZINGS), "What position_size meant.", False),
            ("imported", bool, "Worked out from an imported trades file.", False),
        )
    ),
)

# selectors.results.session_metrics: the headline figures always (the row's, until the run has
# metrics), then every other metric the run has.
HEADLINE = ("trade_count", "total_pnl", "win_rate", "max_drawdown", "sharpe", "currency", "initial_balance")
METRICS = Shape(
    "Metrics",
    "The headline figures (sharpe null when the run's is undefined); every other metric of the "
    "run comes along under its own name.",
    tuple(replace(f, optional=f.name not in HEADLINE) for f in ENGINE_METRICS.fields),
)

# selectors.results' checkpoint progress, or the runner's own (SessionSink.progress).
PROGRESS = Shape(
    "Progress",
    "Live progress: from the runner's cache while it runs, else from the last checkpoint.",
    (
        Field("done", int, "Candles (or ticks) processed so far."),
        Field("total", int, "Candles to process; null when open-ended.", nullable=True),
        Field("percent", float, "done / total in percent; null without a total.", nullable=True),
        Field("trade_count", int),
        Field("total_pnl", float),
        Field("win_rate", float),
        Field("currency", str, "Known while running; null from a checkpoint.", nullable=True),
        Field("metrics", ENGINE_METRICS, "The runner's live metrics (while running only).", optional=True),
        Field("updated_at", float, f"When the runner wrote this ({UNIX}).", optional=True),
    ),
)

# selectors.summaries, for a session's runs or any group of runs.
SUMMARY = Shape(
    "SessionSummary",
    "The summary of the session's runs, as they are now (current while it runs).",
    (
        Field("run_count", int),
        Field("completed_runs", int),
        Field("error_count", int, "Failed runs."),
        Field("best_profit", float, "Highest total_pnl of a completed run.", nullable=True),
        Field("best_config_hash", str, nullable=True),
        Field("avg_profit", float, "Mean total_pnl of the completed runs.", nullable=True),
        Field("last_config_hash", str, "Last run finished or started.", nullable=True),
        Field("current_profit", float, "The running (or last) run's.", nullable=True),
        Field("active", bool, "The session is running."),
    ),
)

# --- built here ---------------------------------------------------------------------------------

SESSION = Shape(
    "Session",
    "A session: every column, times as Unix seconds, decimals as numbers, and its progress.",
    (
        Field("id", str, "UUID."),
        Field("name", str, nullable=True),
        Field("type", Choice(SESSION_TYPES)),
        Field("market", str, "A symbol such as XBTUSD, or a pair such as XBTUSD+ETHUSD."),
        Field("exchange", Choice(EXCHANGE_CHOICES)),
        Field("strategy", str, "A strategy id (GET /api/strategies)."),
        Field("strategy_params", dict, nullable=True),
        Field("timeframe", Choice(TIMEFRAME_CHOICES)),
        _num("initial_balance", nullable=True),
        _num("fee_bps"),
        _num("slippage_bps"),
        Field("sweep", SWEEP, nullable=True),
        Field("reuse", bool, "Identical completed runs are copied, not computed again."),
        _num("leverage", "1 to the markets' max_leverage."),
        Field(
            "sizing",
            Choice(SIZINGS),
            'What position_size means: units, a fraction of the margin available ("equity") or a value in the quote currency ("notional").',
        ),
        _num("maintenance_margin_pct", "Percent of the notional; null: each market's own.", nullable=True),
        Field(
            "funding",
            bool,
            "Funding paid on perpetuals; null: on where the market is a perpetual.",
            nullable=True,
        ),
        Field("range_start", int, f"Backtests only ({UNIX}).", nullable=True),
        Field("range_end", int, f"Backtests only ({UNIX}).", nullable=True),
        Field("status", Choice(STATUSES)),
        Field("waiting_for_worker", bool, "Running, but no worker has claimed it yet."),
        Field("stop_requested", bool),
        Field("pid", int, nullable=True),
        Field("worker", str, "host:pid of the worker running it.", nullable=True),
        _time("heartbeat_at", "The worker's last sign of life"),
        Field("error", str, nullable=True),
        Field("created_at", int, UNIX, nullable=True, convert=unix),
        _time("started_at", "Start"),
        _time("stopped_at", "End"),
        Field("created_by", str, "Username.", nullable=True, compute=_username),
        Field("trade_count", int),
        _num("total_pnl"),
        _num("win_rate"),
        _num("max_drawdown"),
        _num("sharpe", "The best run's; null while undefined.", nullable=True),
        Field("progress_done", int),
        Field("progress_total", int, nullable=True),
        Field("progress", PROGRESS, given=True),
        Field("summary", SUMMARY, given=True),
        Field("trades_file", str, nullable=True),
        Field("logs_file", str, nullable=True),
        Field(
            "cloned_from",
            str,
            "The id of the session this was cloned from.",
            nullable=True,
            source="cloned_from_id",
        ),
        Field("notes", str, nullable=True),
        Field("notify_url", str, nullable=True),
    ),
)

RUN = Shape(
    "Run",
    "One parameter set of a session (a sweep has many), keyed by its config hash.",
    (
        Field("id", int),
        Field("session_id", str),
        Field("config_hash", str),
        Field("params", dict),
        Field("status", Choice(STATUSES)),
        Field("error", str, nullable=True),
        _time("started_at", "Start"),
        _time("stopped_at", "End"),
        Field("worker", str, "Who computed it: node:pid.", nullable=True),
        Field("pid", int, nullable=True),
        Field("data_fingerprint", str, "Hash of the candles it read.", nullable=True),
        Field("reused_from", int, "The completed run it copied.", nullable=True, source="reused_from_id"),
        Field("trade_count", int),
        _num("total_pnl"),
        _num("win_rate"),
        _num("max_drawdown"),
        _num("sharpe", "Null while undefined.", nullable=True),
        Field("metrics", ENGINE_METRICS, "Every metric the engine computes (profit_factor, fees_paid, ...)."),
    ),
)

TRADE = Shape(
    "Trade",
    "",
    (
        Field("id", int),
        Field("market", str),
        Field("side", Choice(TRADE_SIDES)),
        Field("entry_time", int, UNIX),
        _num("entry_price"),
        _num("entry_size"),
        Field("exit_time", int, f"Exit ({UNIX}); null until it happens.", nullable=True),
        _num("exit_price", nullable=True),
        _num("exit_size", nullable=True),
        _num("realized_pnl", "Net of the fees and the funding."),
        _num("fee"),
        Field("exit_reason", Choice(EXIT_REASONS), "signal, end (the run's end or a stop) or liquidation."),
        _num("funding", "Funding paid while open, in the settle currency (negative: received)."),
    ),
)

EVENT = Shape(
    "Event",
    "",
    (
        Field("id", int),
        Field("event_type", Choice(SessionEvent.EventType.values)),
        Field("event_data", dict, nullable=True),
        Field("created_at", int, UNIX, nullable=True, convert=unix),
    ),
)

STRATEGY = Shape(
    "Strategy",
    "",
    (
        Field("id", str),
        Field("name", str),
        Field("description", str, nullable=True),
        Field("supported_types", ListOf(Choice(SESSION_TYPES))),
        Field("supported_markets", ListOf(str)),
        Field("default_params", dict),
        Field("param_schema", dict, "The JSON Schema strategy_params are checked against."),
        Field("created_at", int, UNIX, nullable=True, convert=unix),
    ),
)

MARKET = Shape(
    "Market",
    "",
    (
        Field("id", int),
        Field("exchange", str),
        Field("symbol", str),
        Field("base", str),
        Field("quote", str),
        Field("settle", str, "The currency PnL is counted in."),
        Field("contract_type", Choice(Market.ContractType.values)),
        _num("tick_size"),
        _num("multiplier", "Quanto: settle-currency units per point of price per contract; 1 otherwise."),
        _num("lot_size", "Sizes by equity or notional are whole multiples of it; 0: any size."),
        _num("max_leverage"),
        _num("maintenance_margin_pct", "Percent of the notional."),
        Field("perpetual", bool, "A perpetual swap: open positions pay funding."),
        _num("funding_interval_hours", "Hours between funding times, from 00:00 UTC."),
        Field("active", bool),
    ),
)

RUN_SESSION = Shape(
    "RunSession",
    "What names a run's session beside runs of other sessions.",
    (
        Field("id", str),
        Field("name", str, nullable=True),
        Field("market", str),
        Field("strategy", str),
        Field("timeframe", Choice(TIMEFRAME_CHOICES)),
        Field("range_start", int, f"Backtests only ({UNIX}).", nullable=True),
        Field("range_end", int, f"Backtests only ({UNIX}).", nullable=True),
    ),
)


def session_data(
    session: Session, progress: dict[str, Any] | None = None, summary: dict[str, Any] | None = None
) -> dict[str, Any]:
    """A session as the API answers it and webhooks send it (progress and summary as given)."""
    return SESSION.build(session, progress=progress, summary=summary)


def run_data(run: Run) -> dict[str, Any]:
    return RUN.build(run)


def trade_data(trade: Trade) -> dict[str, Any]:
    return TRADE.build(trade)


def event_data(event: SessionEvent) -> dict[str, Any]:
    return EVENT.build(event)


def strategy_data(strategy: Strategy) -> dict[str, Any]:
    return STRATEGY.build(strategy)


def market_data(market: Market) -> dict[str, Any]:
    return MARKET.build(market)


def run_session_data(session: Session) -> dict[str, Any]:
    """What names a run's session beside runs of other sessions (Compare)."""
    return RUN_SESSION.build(session)
