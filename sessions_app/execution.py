"""Running one session on a worker: the adapter between the engine (bots/) and Django.

The Celery task calls `session_execute`. It claims the session, hands the engine a sink that
records trades, equity, logs and progress, and asks "should I stop?"; a side thread stamps
the heartbeat and reads the stop flag every second, so a busy or waiting runner is never
mistaken for a lost one and a stop is seen within a second.

Faults (SPEC §18): a live session's trades, events, heartbeat and checkpoint are written
together (services.session_progress_write); while the database is down they wait in memory
and go out, in order and once, when it is back. The cache is best effort. A worker's warm
shutdown (`shutdown_requested`) hands its sessions back (event `suspended`); any worker
resumes them, a live one from its checkpoint, replaying the candles it missed.
"""

from __future__ import annotations

import logging
import math
import os
import socket
import threading
import time
import traceback
from contextlib import nullcontext
from datetime import UTC, datetime
from itertools import repeat
from typing import Any

import numpy as np
from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError, close_old_connections, connection
from django.utils import timezone

from bots import indicators
from bots import runner as engine
from bots.archive import check_times
from bots.candles import timeframe_seconds
from bots.metrics import bucket_size, downsample
from bots.strategies.registry import get_strategy
from sessions_app import outages, selectors, services
from sessions_app.data_files import log_path
from sessions_app.models import Run, Session, SessionType, Status, Trade
from sessions_app.selectors import equity_key, progress_key
from sessions_app.services.trades import (
    TRADE_AMOUNT_LIMIT,
    trade_amounts_refuse,
    trade_values_check,
    trades_file_write,
    trades_insert,
)
from strategies_app.market_data import (
    candles_fingerprint,
    candles_fingerprint_probe,
    candles_load,
    exchange_get,
)
from strategies_app.models import Market

log = logging.getLogger(__name__)
cache_log = logging.getLogger("sessions_app.cache")  # throttled: once a minute (settings)

# The database went away (restarting, unreachable): wait and write again, never fail for it.
DATABASE_DOWN = (OperationalError, InterfaceError)
# Set by the worker's warm shutdown (tasks.py): every runner of this process hands back.
shutdown_requested = threading.Event()
# How a run ended besides its status: handed back on shutdown; taken over by another worker.
SUSPENDED = "suspended"
DISOWNED = "disowned"

HEARTBEAT_SECONDS = 3  # well inside STALE_AFTER_SECONDS (30 by default)
CACHE_SECONDS = 1.0  # live progress to the cache at most this often
METRIC_EVENT_SECONDS = 60  # a metric_update event at most this often


def worker_name(node: str | None = None) -> str:
    """Who runs a session: the Celery node name (or the host) and the process id. A worker
    that restarts with the same node name fails what this name left (services.sessions_reap)."""
    return f"{node or socket.gethostname()}:{os.getpid()}"


def session_execute(*, session_id: str, worker: str | None = None) -> str | None:
    """Claim and run a session to its end; returns the final status, or None if not claimed
    or taken over by another worker meanwhile, or SUSPENDED: handed back (or not taken) on
    this worker's shutdown, for the task to queue it again for another worker."""
    worker = worker or worker_name()
    if shutdown_requested.is_set():
        # A worker going down may still take a message: not run here, the task passes it on.
        return SUSPENDED
    session = services.session_claim(session_id=session_id, worker=worker, pid=os.getpid())
    if session is None:
        return None
    if session.type == SessionType.BACKTEST:
        return _backtest_execute(session, worker=worker, coordinate=True)
    sink = SessionSink(session, worker)
    monitor = Monitor(session, sink)
    monitor.start()
    status, error, data = Status.COMPLETED, None, None
    try:
        sink.log(
            f"Started {session.type} {session.strategy} on {session.exchange}:{session.market} "
            f"({session.timeframe}) on {worker}"
        )
        outcome = _run(session, sink)
        if outcome in (SUSPENDED, DISOWNED):
            status = outcome
        elif outcome == Status.STOPPED or session.type != SessionType.BACKTEST:
            status = Status.STOPPED
    except Exception as exc:  # the strategy's or the data's fault: the session fails, the worker lives
        status, error = Status.FAILED, f"{type(exc).__name__}: {exc}"
        summary = traceback.format_exc(limit=8)
        sink.log(f"ERROR {error}\n{summary}")
        data = {"traceback": summary[-4000:]}
    finally:
        monitor.stop()
    if sink.disowned:
        status = DISOWNED
    if status == DISOWNED:
        sink.log("Taken over by another worker: this one stops, writing nothing more.")
    elif status == SUSPENDED:
        # Everything up to the last checkpoint, then the hand-back: any worker resumes it.
        _until_database(lambda: sink.flush(final=True), what="the last checkpoint")
        _until_database(
            lambda: services.session_suspend(session=session, worker=worker), what="the hand-back"
        )
        sink.log(f"Suspended on {worker}'s shutdown; any worker resumes it from its checkpoint.")
    else:
        _finish(session, sink, worker, status, error, data)
    sink.close()
    if status not in (SUSPENDED, DISOWNED):
        _cache_best_effort(cache.delete_many, [progress_key(session.pk), equity_key(session.pk)])
    close_old_connections()
    return None if status == DISOWNED else status


def _finish(session: Session, sink: SessionSink, worker: str, status: str, error, data) -> None:
    """The final writes, each waiting out a database outage: what the runner still holds, the
    final progress, then the final status (a short run may end before any heartbeat)."""
    if sink.buffered:
        _until_database(lambda: sink.flush(final=True), what="the last trades")
    _until_database(
        lambda: services.session_heartbeat(
            session_id=session.pk, progress_done=sink.done, progress_total=sink.total, worker=worker
        ),
        what="the final progress",
    )
    _until_database(
        lambda: services.session_finish(
            session=session,
            status=status,
            error=error,
            data=data if status == Status.FAILED else sink.final_event_data(),
            worker=worker,
        ),
        what="the final status",
    )


def _until_database(write, *, what: str):
    """`write()`, tried again every second while the database is down (DB_OUTAGE_SECONDS at
    most, then its error is raised)."""
    deadline = time.monotonic() + settings.DB_OUTAGE_SECONDS
    while True:
        try:
            return write()
        except DATABASE_DOWN as exc:
            outages.database_down_noted()
            _connection_reset()
            if time.monotonic() >= deadline:
                raise
            log.warning("Database down while writing %s (%s); trying again", what, exc)
            time.sleep(1.0)


def _connection_reset() -> None:
    """Drop this thread's broken connection: the next query opens a new one."""
    try:
        connection.close()
    except Exception:  # closing a dead connection may fail too; it is gone either way
        pass


def _cache_best_effort(call, *args, **kwargs):
    """A cache write must never fail a session (SPEC §18): its error is logged, once a minute."""
    try:
        return call(*args, **kwargs)
    except Exception as exc:
        cache_log.warning("Cache write failed (%s): %s", type(exc).__name__, exc)
        return None


def _run(session: Session, sink: SessionSink) -> str:
    """Run the live session's (or scraper's) run with the engine; the status it ends with
    (stopped), or SUSPENDED (handed back on shutdown), or DISOWNED (taken over)."""
    markets = _market_specs(session)
    runs = list(session.runs.order_by("id"))
    resumed = any(run.worker for run in runs)  # it ran before: handed back or its worker lost
    if resumed:
        sink.resumed_event()
    run = runs[0]
    feed_start, resume, resume_trades = None, None, None
    if session.type == SessionType.TEST and run.checkpoint:
        resume = run.checkpoint
        services.run_resume(run=run, checkpoint=resume)
        rows = selectors.run_trade_rows(run=run)
        resume_trades = selectors.engine_trades(rows, markets[0].settle)
        sink.resume_from(rows, resume)
        # The feed catches up from the candle after the checkpoint: the missed ones replay.
        feed_start = resume["last_time"] + timeframe_seconds(session.timeframe)
    sink.begin_run(run, 0, resumed=resumed)
    feed = exchange_get(session.exchange).live(
        [m.symbol for m in markets], session.timeframe, start=feed_start
    )
    if session.type == SessionType.SCRAPER:
        result = engine.run_scraper(
            _config(session, run, markets), feed, sink, archive_root=str(settings.DATA_ROOT)
        )
    else:
        result = engine.run_live(
            _config(session, run, markets), feed, sink, resume=resume, resume_trades=resume_trades
        )
    if sink.handback or sink.disowned:
        return DISOWNED if sink.disowned else SUSPENDED
    sink.end_run(result, Status.STOPPED)
    sink.write_trades_file()
    return Status.STOPPED


# --- backtests: one session's runs shared by every process that takes part ---------------
#
# The process that claims the session (the coordinator) fingerprints the candles, copies the
# runs identical to completed ones (reuse), and when more runs are left than one process should
# compute alone, queues chunk tasks on the backtest queue. It then computes runs itself, like
# every chunk does: each process takes the next `created` run with a conditional UPDATE
# (services.run_claim_next) until none is left, so a fast process takes more runs and a
# redelivered chunk finds nothing to take. Each heartbeats its runs and the session and reads
# the stop flag; the last to finish a run ends the session (services.session_sweep_finish);
# a process that dies leaves its run to the reaper ("Worker lost").


def session_chunk_execute(*, session_id: str, worker: str | None = None) -> str | None:
    """One more process's share of a running sweep; the final status when this process ended
    the session, else None."""
    session = Session.objects.filter(pk=session_id, status=Status.RUNNING).first()
    if session is None:  # ended (or stopped) before this chunk was picked up: nothing to do
        return None
    return _backtest_execute(session, worker=worker or worker_name(), coordinate=False)


def _backtest_execute(session: Session, *, worker: str, coordinate: bool) -> str | None:
    sink = SessionSink(session, worker=worker, pid=os.getpid())
    run_ids = list(session.runs.order_by("id").values_list("id", flat=True))
    sink.runs_total, sink.run_positions = len(run_ids), {pk: index for index, pk in enumerate(run_ids)}
    monitor = Monitor(session, sink)
    monitor.start()
    try:
        if coordinate:
            sink.log(
                f"Started backtest {session.strategy} on {session.exchange}:{session.market} "
                f"({session.timeframe}) on {worker}"
            )
            plan = _sweep_prepare(session, sink)
        else:
            plan = SweepPlan(markets=_market_specs(session), candles=None)
    except Exception as exc:  # the data's fault (or the coordinator's): the whole session fails
        error = f"{type(exc).__name__}: {exc}"
        summary = traceback.format_exc(limit=8)
        sink.log(f"ERROR {error}\n{summary}")
        monitor.stop()
        services.session_finish(
            session=session, status=Status.FAILED, error=error, data={"traceback": summary[-4000:]}
        )
        sink.close()
        _progress_forget(session)
        close_old_connections()
        return Status.FAILED
    try:
        _runs_compute(session, sink, plan)
    except Exception as exc:  # this process's trouble (its database connection...): its run
        sink.log(f"ERROR {type(exc).__name__}: {exc}; this process leaves the sweep")  # fails,
        log.exception("sweep %s on %s", session.pk, worker)  # the other processes go on
        for run in sink.held or ([sink.run] if sink.run is not None else []):  # ended ones stay
            services.run_fail(run=run, error=f"Worker error: {type(exc).__name__}: {exc}")
    monitor.stop()
    status = services.session_sweep_finish(
        session_id=session.pk, progress=sink.final_progress(), traceback=sink.first_traceback
    )
    if status is not None:
        sink.log(f"Session {status}")
        _progress_forget(session)
    sink.close()
    close_old_connections()
    return status


class SweepPlan:
    """What a process computing runs needs: the market specs, and the candles once loaded."""

    def __init__(self, *, markets: list, candles: dict | None):
        self.markets, self.candles = markets, candles


def _sweep_prepare(session: Session, sink: SessionSink) -> SweepPlan:
    """The coordinator's part: fingerprint, reuse, chunks. Candles are loaded only when some
    run is left to compute (a generated exchange's fingerprint needs none)."""
    markets = _market_specs(session)
    symbols = [m.symbol for m in markets]
    every_run = list(session.runs.order_by("id"))
    if any(run.worker for run in every_run):  # it ran before, its worker lost: completed runs kept
        sink.resumed_event()
    runs = [run for run in every_run if run.status == Status.CREATED]
    candles = None
    # Once per session: every run of a sweep reads the same candles. Known without loading
    # them for generated candles and for archive files unchanged since the last hash.
    probe = candles_fingerprint_probe(
        exchange=session.exchange,
        symbols=symbols,
        timeframe=session.timeframe,
        start=session.range_start,
        end=session.range_end,
    )
    fingerprint = probe.fingerprint
    if fingerprint is None:
        candles = _candles(session, markets, sink)
        fingerprint = candles_fingerprint(
            exchange=session.exchange,
            timeframe=session.timeframe,
            start=session.range_start,
            end=session.range_end,
            candles=candles,
            probe=probe,
        )
    sink.data_fingerprint = fingerprint
    services.runs_stamp_fingerprint(session_id=session.pk, data_fingerprint=fingerprint)
    sources = selectors.runs_reusable(session=session, data_fingerprint=fingerprint) if session.reuse else {}
    pairs = [(run, sources[run.config_hash]) for run in runs if run.config_hash in sources]
    if pairs:  # same config, same candles: the same results, not computed again
        services.runs_reuse(session=session, pairs=pairs, worker=sink.worker, pid=sink.pid)
        sink.runs_reused(pairs)
    left = len(runs) - len(pairs)
    if left and candles is None:
        candles = _candles(session, markets, sink)
    chunks = math.ceil(left / settings.SWEEP_CHUNK_RUNS) - 1  # this process computes too
    if chunks > 0:
        sent = services.session_chunks_send(session_id=session.pk, count=chunks)
        sink.log(f"{left} runs to compute, shared with {sent} more chunk tasks on the backtest queue")
    return SweepPlan(markets=markets, candles=candles)


def _runs_compute(session: Session, sink: SessionSink, plan: SweepPlan) -> None:
    """Take the session's next runs and compute them, until none is left or a stop is asked.

    A sweep of a strategy with rules takes SWEEP_CHUNK_RUNS runs at a time and computes them
    in one grid (engine.run_grid: each indicator once, the configs' walks in one compiled
    call), then records each run as run_backtest would have reported it. Anything else (a
    plain backtest, which reports its progress chunk by chunk, a per-candle strategy) takes
    one run at a time."""
    grid = sink.runs_total > 1 and _rules_strategy(session)
    # Indicators shared by the process's grids too, not only within one (a sweep's runs are
    # in parameter order: the next grid often wants the same windows), a bounded number.
    with indicators.shared(limit=SHARED_INDICATORS) if grid else nullcontext():
        _runs_loop(session, sink, plan, grid=grid)


# Indicator arrays a sweep's process keeps between its grids (a year of 1m candles: 4 MB each).
SHARED_INDICATORS = 64


def _runs_loop(session: Session, sink: SessionSink, plan: SweepPlan, *, grid: bool) -> None:
    while not sink.should_stop() and not shutdown_requested.is_set():
        # A warm shutdown: the runs in hand end, no new one is taken; the others (or, once
        # no process heartbeats the session, the resumed session) compute the rest.
        runs = services.runs_claim_next(
            session_id=session.pk,
            worker=sink.worker,
            pid=sink.pid,
            count=settings.SWEEP_CHUNK_RUNS if grid else 1,
        )
        if not runs:
            return
        sink.held = runs
        if plan.candles is None:  # a chunk process: its candles, once (the coordinator
            plan.candles = _candles(session, plan.markets, sink, check=False)  # checked them)
        stopped = _runs_grid(session, sink, plan, runs) if grid else _run_one(session, sink, plan, runs[0])
        sink.held = []
        if stopped:
            return


def _rules_strategy(session: Session) -> bool:
    """Whether the session's strategy decides by rules alone (the compiled grid applies)."""
    try:
        return get_strategy(session.strategy, tuple(settings.STRATEGY_PACKAGES)).uses_rules()
    except Exception:  # an unknown strategy: each run fails with the error, one by one
        return False


def _run_one(session: Session, sink: SessionSink, plan: SweepPlan, run: Run) -> bool:
    """One run with engine.run_backtest, reporting chunk by chunk; True when it was stopped."""
    sink.take_run(run)
    try:
        result = engine.run_backtest(_config(session, run, plan.markets), plan.candles, sink)
    except Exception as exc:  # the strategy's fault: this run fails, the others go on
        sink.fail_run(exc)
        return False
    sink.end_sweep_run(result, Status.STOPPED if result.stopped else Status.COMPLETED)
    return result.stopped


def _runs_grid(session: Session, sink: SessionSink, plan: SweepPlan, runs: list[Run]) -> bool:
    """The runs computed together (engine.run_grid), then each recorded: its log lines, trades,
    curve, progress, metrics, results and part of the trades file. A strategy that raises
    sends the runs through run_backtest one by one, so only its own run fails."""
    configs = [_config(session, run, plan.markets) for run in runs]
    lines = [_LogLines() for _ in runs]
    began = time.monotonic()
    try:
        results = engine.run_grid(configs, plan.candles, lines, batch=len(configs))
    except Exception as exc:
        sink.log(
            f"The grid of {len(runs)} runs raised ({type(exc).__name__}: {exc}); computing them one by one"
        )
        # Every run taken is ended, even after a stop (then each stops at its first chunk).
        stopped = [_run_one(session, sink, plan, run) for run in runs]
        return any(stopped)
    sink.log(f"{len(runs)} runs computed in one grid in {time.monotonic() - began:.2f} s on {sink.worker}")
    for run, told, result in zip(runs, lines, results, strict=True):
        sink.take_run(run)
        for line in told.logs:
            sink.on_log(line)
        sink.on_trades(result.trades)
        sink.on_equity(result.equity)
        sink.on_progress(result.candles, result.candles)
        sink.on_metrics(result.metrics)
        sink.end_sweep_run(result, Status.COMPLETED)
    return False


class _LogLines(engine.NullSink):
    """A grid run's sink: keeps its log lines (for the session's log, in the run's turn);
    its trades, curve and metrics come with its Result."""

    def __init__(self):
        self.logs: list[str] = []

    def on_log(self, line: str) -> None:
        self.logs.append(line)


def session_candles(session: Session, markets: list) -> dict:
    """The candles every run of the session reads, per symbol."""
    return candles_load(
        exchange=session.exchange,
        symbols=[m.symbol for m in markets],
        timeframe=session.timeframe,
        start=session.range_start,
        end=session.range_end,
    )


def _candles(session: Session, markets: list, sink: SessionSink, *, check: bool = True) -> dict:
    candles = session_candles(session, markets)
    if check:
        _report_data_check(session, sink, candles)
    sink.candle_count = max((len(legs) for legs in candles.values()), default=0)
    return candles


def _progress_forget(session: Session) -> None:
    cache.delete_many([progress_key(session.pk), equity_key(session.pk)])


def _market_specs(session: Session) -> list:
    symbols = session.market.split("+")
    found = {m.symbol: m for m in Market.objects.filter(exchange=session.exchange, symbol__in=symbols)}
    missing = [s for s in symbols if s not in found]
    if missing:
        raise ValueError(f"Unknown market {', '.join(missing)} on {session.exchange}")
    return [found[s].spec() for s in symbols]


def _config(session: Session, run: Run, markets: list):
    return engine.RunConfig(
        strategy=session.strategy,
        params=run.params,
        markets=markets,
        exchange=session.exchange,
        timeframe=session.timeframe,
        range_start=session.range_start,
        range_end=session.range_end,
        initial_balance=float(session.initial_balance or 0),
        fee_bps=float(session.fee_bps),
        slippage_bps=float(session.slippage_bps),
        strategy_packages=tuple(settings.STRATEGY_PACKAGES),
    )


def _report_data_check(session: Session, sink: SessionSink, candles: dict) -> None:
    """Missing candles are told in the events; a range with no data at all fails clearly."""
    for symbol, legs in candles.items():
        if len(legs) == 0:
            raise ValueError(
                f"No {session.timeframe} candles for {symbol} on {session.exchange} between "
                f"{_iso(session.range_start)} and {_iso(session.range_end)}; "
                "import, download or scrape data first."
            )
        check = check_times(legs.time, session.timeframe, session.range_start, session.range_end)
        if check.missing:
            services.event_record(
                session=session,
                event_type="info",
                data={
                    "data_check": {
                        "market": symbol,
                        "expected": check.expected,
                        "present": check.present,
                        "missing": check.missing,
                        "first_gaps": [list(gap) for gap in check.gaps],
                    }
                },
            )
            sink.log(f"Data check {symbol}: {check.summary()}")


def _iso(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat() if ts is not None else "?"


class SessionSink:
    """What the engine reports, recorded: trades in the Trade table, progress and live
    metrics in the cache, checkpoints on the rows, lines in the session's log file.

    A live (test) session is `buffered`: its trades, events, checkpoint and heartbeat wait in
    memory and go to the database together (`flush`), after each trade and every heartbeat;
    a write the database refuses stays queued, in order, for the next try."""

    def __init__(self, session: Session, worker: str | None = None, *, pid: int | None = None):
        self.session = session
        # Who computes the runs this sink records: a sweep's chunks run in other processes
        # than the one that claimed the session.
        self.worker = worker or session.worker or worker_name()
        self.pid = pid or session.pid or os.getpid()
        self.buffered = session.type == SessionType.TEST
        self.candle_count: int | None = None  # per run, once known
        self.first_traceback: str | None = None
        self.run: Run | None = None
        self.run_index = 0
        self.run_positions: dict[int, int] = {}  # a backtest's run ids -> their order
        self.runs_total = 1
        self.held: list[Run] = []  # a backtest's runs this process claimed and has not ended
        self.data_fingerprint: str | None = None
        self.stop_event = threading.Event()
        self.handback = False  # the worker shuts down: hand the session back, do not end it
        self.disowned = False  # another worker runs it now: write nothing more
        self.done = 0
        self.total: int | None = None
        self.trade_count = 0
        self.trades: list[tuple] = []  # rows as inserted, for the trades file
        self.metrics: dict[str, Any] = {}
        self.equity: list[list[float]] = []
        self._last_cache = 0.0
        self._lock = threading.Lock()
        # The buffered writes: rows and events not yet in the database, the newest checkpoint
        # and how many of the rows and events it counts (a flush writes no trade without it).
        self._write_lock = threading.Lock()
        self._pending_trades: list[tuple] = []
        self._pending_events: list[tuple[str, dict, Any]] = []
        self._checkpoint: dict | None = None
        self._mark = (0, 0)
        self._last_write = time.monotonic()
        self.down_since: float | None = None  # when the current database outage began
        self.log_path = log_path(session.pk)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("a", encoding="utf-8", buffering=1)
        services.session_files_set(session=session, logs_file=str(self.log_path))

    # --- the engine's Sink protocol --------------------------------------------------------

    def should_stop(self) -> bool:
        if self.disowned:
            return True
        if shutdown_requested.is_set() and not self.stop_event.is_set():
            # From here on the engine's wind-down (closing the position at the last close) is
            # not recorded: the session goes on elsewhere from its last checkpoint.
            self.handback = True
            return True
        return self.stop_event.is_set()

    @property
    def frozen(self) -> bool:
        return self.handback or self.disowned

    def on_progress(self, done: int, total: int | None) -> None:
        if self.frozen:
            return
        with self._lock:
            if total is not None and self.runs_total > 1:
                # A sweep's progress counts candles across all its runs.
                done, total = self.run_index * total + done, total * self.runs_total
            self.done, self.total = done, total
        self._publish()

    def on_trades(self, trades: list) -> None:
        if not trades or self.run is None or self.frozen:
            return
        if hasattr(trades, "columns"):  # the engine's TradeLog: rows from its columns, no records
            trade_amounts_refuse(trades.first_out_of_bounds(TRADE_AMOUNT_LIMIT))
            columns = trades.columns()
            fields = [columns[f] for f in Trade.VALUE_FIELDS]
            rows = list(zip(repeat(self.run.pk, len(trades)), *fields, strict=True))
        else:
            rows = self._rows(trades)
            trade_amounts_refuse(trade_values_check(rows))
        if not self.buffered:  # a backtest's trades: waiting out an outage rather than failing
            _until_database(lambda: trades_insert(rows), what="trades")
        self.trades.extend(rows)
        self.trade_count += len(rows)
        if self.buffered:
            now = timezone.now()
            with self._lock:
                self._pending_trades.extend(rows)
                # A live session's story tells each trade.
                self._pending_events.extend(("trade", _trade_dict(trade), now) for trade in trades)
            for trade in trades:
                self.log(
                    f"Trade {trade.side} {trade.market} {trade.entry_price} -> {trade.exit_price} "
                    f"pnl {trade.realized_pnl:.8g}"
                )

    def _rows(self, trades) -> list[tuple]:
        return [
            (
                self.run.pk,
                t.market,
                t.side,
                int(t.entry_time),
                float(t.entry_price),
                float(t.entry_size),
                int(t.exit_time) if t.exit_time is not None else None,
                _float(t.exit_price),
                _float(t.exit_size),
                float(t.realized_pnl),
                float(t.fee),
            )
            for t in trades
        ]

    def on_checkpoint(self, state: dict[str, Any]) -> None:
        """The live runner's state after a report: written with the trades it counts, at once
        after a trade, else at least every heartbeat."""
        if self.frozen or not self.buffered:
            return
        with self._lock:
            self._checkpoint = state
            self._mark = (len(self._pending_trades), len(self._pending_events))
            due = bool(self._pending_trades) or time.monotonic() - self._last_write >= HEARTBEAT_SECONDS
        if due and self.down_since is None:
            self.flush()

    def on_equity(self, points: list) -> None:
        if self.frozen:
            return
        with self._lock:
            self.equity.extend([int(t), float(v)] for t, v in points)
            if len(self.equity) > 4000:  # keep a live curve chart-sized, extremes kept
                points = np.asarray(self.equity)
                self.equity = [
                    [t, v]
                    for t, v in downsample(
                        points[:, 0].astype(np.int64), points[:, 1], bucket_size(len(points))
                    )
                ]

    def on_log(self, line: str) -> None:
        self.log(line)

    def on_metrics(self, metrics: dict) -> None:
        if self.frozen:
            return
        with self._lock:
            self.metrics = dict(metrics)
        self._publish()

    # --- the buffered writes of a live session ---------------------------------------------

    def event(self, event_type: str, data: dict) -> None:
        """An event of a live session, queued with the trades (in order)."""
        with self._lock:
            self._pending_events.append((event_type, data, timezone.now()))

    def flush(self, *, final: bool = False) -> bool:
        """Write what waits (up to the newest checkpoint; everything when `final`) in one
        transaction. False while the database is down: it all stays queued. Raises the
        database's error only when `final` (the caller waits it out)."""
        if self.disowned or self.run is None:
            return True
        with self._write_lock:
            with self._lock:
                n_trades, n_events = (
                    (len(self._pending_trades), len(self._pending_events)) if final else self._mark
                )
                if not final:  # events queued after the checkpoint (metric updates) go too
                    n_events = (
                        len(self._pending_events) if n_trades == len(self._pending_trades) else n_events
                    )
                trades = self._pending_trades[:n_trades]
                events = self._pending_events[:n_events]
                checkpoint = self._checkpoint
                metrics = dict(self.metrics) or None
                done, total = self.done, self.total
            try:
                flags = services.session_progress_write(
                    session=self.session,
                    run=self.run,
                    worker=self.worker,
                    trades=trades,
                    events=events,
                    checkpoint=checkpoint,
                    metrics=metrics,
                    progress_done=done,
                    progress_total=total,
                )
            except DATABASE_DOWN as exc:
                self._database_down(exc)
                if final:
                    raise
                return False
            with self._lock:
                del self._pending_trades[:n_trades]
                del self._pending_events[:n_events]
                self._mark = (self._mark[0] - n_trades, max(0, self._mark[1] - n_events))
                if self._checkpoint is checkpoint:
                    self._checkpoint = None
                self._last_write = time.monotonic()
            self._database_back(len(trades), len(events))
            self._flags(flags)
            return True

    def _flags(self, flags: tuple[str, bool] | None) -> None:
        if flags is None:
            self.disowned = True
            self.stop_event.set()
            return
        status, stop = flags
        if stop or status != Status.RUNNING:
            self.stop_event.set()

    def _database_down(self, exc: Exception) -> None:
        outages.database_down_noted()
        _connection_reset()
        if self.down_since is None:
            self.down_since = time.monotonic()
            self.log(f"Database unreachable ({type(exc).__name__}: {exc}); trades and events wait in memory")
            log.warning("Session %s: database unreachable, buffering (%s)", self.session.pk, exc)

    def _database_back(self, trades: int, events: int) -> None:
        if self.down_since is not None:
            seconds = time.monotonic() - self.down_since
            self.down_since = None
            self.log(
                f"Database back after {seconds:.1f} s: wrote {trades} trades and {events} events kept meanwhile"
            )
            log.warning("Session %s: database back after %.1f s", self.session.pk, seconds)

    def heartbeat(self) -> None:
        """The monitor's beat: a flush for a live session, else the plain heartbeat row."""
        if self.buffered:
            self.flush()
            return
        backtest = self.session.type == SessionType.BACKTEST
        try:
            # A sweep's processes share the session: each stamps it (and its own run), none
            # owns it alone.
            flags = services.session_heartbeat(
                session_id=self.session.pk,
                progress_done=self.progress_checkpoint() if backtest else self.done,
                progress_total=self.total,
                worker=None if backtest else self.worker,
            )
            if backtest and (self.held or self.run is not None):
                services.runs_heartbeat(run_ids=[run.pk for run in self.held] or [self.run.pk])
            self.checkpoint()
        except DATABASE_DOWN as exc:
            self._database_down(exc)
            return
        self._database_back(0, 0)
        self._flags(flags)

    # --- runs ------------------------------------------------------------------------------

    def begin_run(self, run: Run, index: int, *, resumed: bool = False) -> None:
        _until_database(
            lambda: services.run_begin(
                run=run,
                worker=self.worker,
                pid=os.getpid(),
                data_fingerprint=self.data_fingerprint,
                resumed=resumed,
            ),
            what="the run's start",
        )
        self.run, self.run_index = run, index
        if not resumed:
            self.equity, self.metrics = [], {}

    def resume_from(self, rows: list[tuple], checkpoint: dict) -> None:
        """A live run going on from `checkpoint`: its trades so far and its curve."""
        self.trades = list(rows)
        self.trade_count = len(rows)
        self.equity = [list(point) for point in checkpoint.get("equity", [])]
        self.done = int(checkpoint.get("candles", 0))

    def resumed_event(self) -> None:
        """Told once, when a worker takes up a session that ran before (handed back or lost)."""
        services.event_record(
            session=self.session, event_type="resumed", data={"worker": self.worker, "pid": os.getpid()}
        )
        self.log(f"Resumed on {self.worker}")

    def end_run(self, result, status: str) -> None:
        """The run's final results (everything up to a stop included) on its row and the session."""
        _until_database(
            lambda: services.session_results_save(
                session=self.session,
                run=self.run,
                metrics=result.metrics,
                equity=[[int(t), float(v)] for t, v in result.equity],
                status=status,
            ),
            what="the run's results",
        )
        self.metrics = result.metrics
        self.log(
            f"Run {self.run.config_hash} {status}: {result.metrics.get('trade_count', 0)} trades, "
            f"pnl {result.metrics.get('total_pnl', 0):.8g} {result.metrics.get('currency', '')}"
        )

    def take_run(self, run: Run) -> None:
        """A backtest run this process claimed (services.run_claim_next stamped it). Runs are
        claimed in id order, so the runs before it have ended or are ending: its position
        counts them for the sweep's progress."""
        self.run, self.run_index = run, self.run_positions.get(run.pk, 0)
        # A backtest keeps only the current run's trades: each run's part of the trades file
        # is written when it ends (end_sweep_run).
        self.equity, self.metrics, self.trades = [], {}, []

    def fail_run(self, exc: Exception) -> None:
        """The run's strategy raised: the run fails with the error, told in the log."""
        error = f"{type(exc).__name__}: {exc}"
        summary = traceback.format_exc(limit=8)
        self.first_traceback = self.first_traceback or summary
        services.run_fail(run=self.run, error=error)
        self.log(f"Run {self.run.config_hash} failed: {error}\n{summary}")

    def runs_reused(self, pairs: list[tuple[Run, Run]]) -> None:
        """Runs copied from identical completed ones (services.runs_reuse), told in the log."""
        for run, source in pairs:
            self.trade_count += source.trade_count
            self.metrics = source.metrics
            self.candle_count = self.candle_count or source.metrics.get("candles")
            self.log(
                f"Run {run.config_hash} reused from run {source.pk} (session {source.session_id}): "
                f"{source.trade_count} trades, pnl {source.metrics.get('total_pnl', 0):.8g} "
                f"{source.metrics.get('currency', '')}"
            )
        if self.candle_count:
            self.run_index = len(pairs)
            self.on_progress(0, self.candle_count)

    def end_sweep_run(self, result, status: str) -> None:
        """A backtest run's end: its part of the sweep's trades file (services.trades_file_assemble
        joins them), then its results (end_run). The part first: the process that ends the
        sweep assembles the file as soon as every run has ended, and a part it does not find
        it rebuilds from the table (rounded to the columns' 10 places on MariaDB)."""
        services.trades_part_write(
            session_id=self.session.pk,
            run_id=self.run.pk,
            config_hash=self.run.config_hash,
            params=self.run.params,
            rows=self.trades,
        )
        self.end_run(result, status)

    def progress_checkpoint(self) -> int | None:
        """Progress for the heartbeat; None for a process that joined a sweep and has none
        yet (it must not reset what the others reported)."""
        return None if self.total is None and self.runs_total > 1 else self.done

    def final_progress(self) -> tuple[int, int] | None:
        """The sweep's progress when it ends: every candle of every run, or where a stop cut it."""
        if not self.candle_count:
            return None
        total = self.candle_count * self.runs_total
        return (min(self.done, total), total) if self.stop_event.is_set() else (total, total)

    def checkpoint(self) -> None:
        """Live metrics onto the rows (called by the monitor every few seconds)."""
        with self._lock:
            metrics = dict(self.metrics)
        if metrics and self.run is not None:
            services.session_results_save(session=self.session, run=self.run, metrics=metrics)

    def write_trades_file(self) -> None:
        """`trades_<id>.json`, written once at the end from what was recorded (no second read
        of the table)."""
        _until_database(
            lambda: trades_file_write(session=self.session, rows=self.trades), what="the trades file"
        )

    def final_event_data(self) -> dict[str, Any]:
        return {
            "trade_count": self.trade_count,
            "progress_done": self.done,
            "metrics": {k: v for k, v in self.metrics.items() if not isinstance(v, (list, dict))},
        }

    # --- plumbing --------------------------------------------------------------------------

    def progress(self) -> dict[str, Any]:
        with self._lock:
            done, total, metrics = self.done, self.total, dict(self.metrics)
        return {
            "done": done,
            "total": total,
            "percent": round(100 * done / total, 1) if total else None,
            "trade_count": metrics.get("trade_count", self.trade_count),
            "total_pnl": metrics.get("total_pnl", 0.0),
            "win_rate": metrics.get("win_rate", 0.0),
            "currency": metrics.get("currency"),
            "metrics": metrics,
            "updated_at": time.time(),
        }

    def _publish(self) -> None:
        now = time.monotonic()
        if now - self._last_cache < CACHE_SECONDS:
            return
        self._last_cache = now
        with self._lock:
            equity = list(self.equity)
        _cache_best_effort(
            cache.set_many,
            {progress_key(self.session.pk): self.progress(), equity_key(self.session.pk): equity},
            timeout=settings.STALE_AFTER_SECONDS * 4,
        )

    def log(self, line: str) -> None:
        stamp = datetime.now(tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        with self._lock:
            self._log.write(f"{stamp} {line}\n")

    def close(self) -> None:
        self._log.close()


class Monitor(threading.Thread):
    """Every second: read the stop flag (and the worker's shutdown); every few seconds:
    heartbeat, progress and metric checkpoints. Runs beside the engine so a long computation
    still heartbeats. While the database is down it tries the queued writes every second."""

    def __init__(self, session: Session, sink: SessionSink):
        super().__init__(name=f"monitor-{session.pk}", daemon=True)
        self.session, self.sink = session, sink
        self._done = threading.Event()

    def run(self) -> None:
        last_beat = last_event = 0.0
        sink = self.sink
        try:
            while not self._done.wait(1.0):
                now = time.monotonic()
                try:
                    if sink.down_since is not None or now - last_beat >= HEARTBEAT_SECONDS:
                        last_beat = now
                        if sink.buffered and now - last_event >= METRIC_EVENT_SECONDS and sink.metrics:
                            last_event = now
                            sink.event("metric_update", sink.final_event_data())
                        elif not sink.buffered and now - last_event >= METRIC_EVENT_SECONDS and sink.metrics:
                            last_event = now
                            services.event_record(
                                session=self.session, event_type="metric_update", data=sink.final_event_data()
                            )
                        sink.heartbeat()
                    else:
                        sink._flags(selectors.session_flags(self.session.pk))
                except DATABASE_DOWN as exc:
                    sink._database_down(exc)
                except Exception:  # nothing here may kill the heartbeat for good
                    log.exception("monitor of session %s", self.session.pk)
        finally:
            _connection_reset()

    def stop(self) -> None:
        self._done.set()
        self.join(timeout=10)


def _float(value) -> float | None:
    return float(value) if value is not None else None


def _trade_dict(trade) -> dict[str, Any]:
    return {
        "market": trade.market,
        "side": trade.side,
        "entry_time": int(trade.entry_time),
        "entry_price": float(trade.entry_price),
        "exit_time": trade.exit_time,
        "exit_price": float(trade.exit_price) if trade.exit_price is not None else None,
        "realized_pnl": float(trade.realized_pnl),
    }
