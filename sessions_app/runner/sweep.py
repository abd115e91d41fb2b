"""Backtests on workers: one session's runs shared by every process that takes part.

The process that claims the session (the coordinator) fingerprints the candles, copies the
runs identical to completed ones (reuse), and when more runs are left than one process should
compute alone, queues chunk tasks on the backtest queue. It then computes runs itself, like
every chunk does: each process takes the next `created` runs with a conditional UPDATE
(services.runs_claim_next) until none is left, so a fast process takes more runs and a
redelivered chunk finds nothing to take. Each heartbeats its runs and the session and reads
the stop flag; the last to finish a run ends the session (services.session_sweep_finish);
a process that dies leaves its run to the reaper ("Worker lost"). A plain backtest is a sweep
of one run.
"""

from __future__ import annotations

import logging
import math
import time
import traceback
from contextlib import nullcontext
from datetime import UTC, datetime

from django.conf import settings
from django.db import close_old_connections

from bots import indicators
from bots import runner as engine
from bots.archive import check_times
from bots.exchanges.base import Capability
from bots.exchanges.registry import exchange_can
from bots.strategies.registry import get_strategy
from sessions_app import selectors, services
from sessions_app.models import Run, Session, Status
from sessions_app.runner.inputs import (
    candles_start,
    funding_fingerprint,
    in_range,
    market_specs,
    run_config,
    session_candles,
    session_funding,
    startup_candles,
    warmup_shortfall,
)
from sessions_app.runner.monitor import Monitor
from sessions_app.runner.sink import progress_forget
from sessions_app.runner.sweep_sink import SweepSink
from sessions_app.runner.worker import SUSPENDED, shutdown_requested
from strategies_app.market_data import candles_fingerprint, candles_fingerprint_probe

log = logging.getLogger(__name__)

# Indicator arrays a sweep's process keeps between its grids (a year of 1m candles: 4 MB each).
SHARED_INDICATORS = 64


class SweepRunner:
    """This process's part in a backtest session: the coordinator's (`execute`) or a chunk's
    (`share`). Either computes runs until none is left."""

    def __init__(self, session: Session, *, worker: str):
        self.session, self.worker = session, worker
        self.markets: list = []
        self.candles: dict | None = None  # loaded once, when some run is left to compute
        self.funding: dict | None = None  # the perpetuals' rates, with the candles
        self._warmup: int | None = None

    def execute(self) -> str | None:
        """The claimed session prepared, then runs computed; the final status when this
        process ended the session, else None."""
        return self._take_part(coordinate=True)

    def share(self) -> str | None:
        """One more process's share of a running sweep (a chunk task); the final status when
        this process ended the session, else None."""
        return self._take_part(coordinate=False)

    def _take_part(self, *, coordinate: bool) -> str | None:
        session = self.session
        run_ids = list(session.runs.order_by("id").values_list("id", flat=True))
        self.sink = sink = SweepSink(session, worker=self.worker, run_ids=run_ids)
        monitor = Monitor(sink)
        monitor.start()
        try:
            if coordinate:
                sink.log(
                    f"Started backtest {session.strategy} on {session.exchange}:{session.market} "
                    f"({session.timeframe}) on {self.worker}"
                )
                self._prepare()
            else:
                self.markets = market_specs(session)
        except Exception as exc:  # the data's fault (or the coordinator's): the whole session fails
            error = f"{type(exc).__name__}: {exc}"
            summary = traceback.format_exc(limit=8)
            sink.log(f"ERROR {error}\n{summary}")
            monitor.stop()
            services.session_finish(
                session=session, status=Status.FAILED, error=error, data={"traceback": summary[-4000:]}
            )
            sink.close()
            progress_forget(session)
            close_old_connections()
            return Status.FAILED
        try:
            self._compute()
        except Exception as exc:  # this process's trouble (its database connection...): its run
            sink.log(f"ERROR {type(exc).__name__}: {exc}; this process leaves the sweep")  # fails,
            log.exception("sweep %s on %s", session.pk, self.worker)  # the other processes go on
            for run in sink.held or ([sink.run] if sink.run is not None else []):  # ended ones stay
                services.run_fail(run=run, error=f"Worker error: {type(exc).__name__}: {exc}")
        monitor.stop()
        status = services.session_sweep_finish(
            session_id=session.pk, progress=sink.final_progress(), traceback=sink.first_traceback
        )
        if status is None and sink.handback and services.session_suspend(session=session, worker=self.worker):
            # A warm shutdown left runs to compute and this process holds the session: it hands
            # it back (the task queues it again), the next worker computes the rest. A chunk's
            # process leaves them to the coordinator, or to the reaper's resume.
            sink.log(f"Suspended on {self.worker}'s shutdown; any worker computes the runs left.")
            status = SUSPENDED
        if status is not None and status != SUSPENDED:
            sink.log(f"Session {status}")
            progress_forget(session)
        sink.close()
        close_old_connections()
        return status

    def _prepare(self) -> None:
        """The coordinator's part: fingerprint, reuse, chunks. Candles are loaded only when
        some run is left to compute (a generated exchange's fingerprint needs none)."""
        session, sink = self.session, self.sink
        self.markets = market_specs(session)
        every_run = list(session.runs.order_by("id"))
        # It ran before (its worker lost, or handed back on a deploy): a coordinator stamped the
        # runs' fingerprint then, and completed runs are kept.
        if any(run.worker or run.data_fingerprint for run in every_run):
            sink.resumed_event()
        runs = [run for run in every_run if run.status == Status.CREATED]
        fingerprint = self._fingerprint()
        services.runs_stamp_fingerprint(session_id=session.pk, data_fingerprint=fingerprint)
        sources = (
            selectors.runs_reusable(session=session, data_fingerprint=fingerprint) if session.reuse else {}
        )
        pairs = [(run, sources[run.config_hash]) for run in runs if run.config_hash in sources]
        if pairs:  # same config, same candles: the same results, not computed again
            services.runs_reuse(session=session, pairs=pairs, worker=self.worker, pid=sink.pid)
            sink.runs_reused(pairs)
        left = len(runs) - len(pairs)
        if left and self.candles is None:
            self._candles_load(check=True)
        chunks = math.ceil(left / settings.SWEEP_CHUNK_RUNS) - 1  # this process computes too
        if chunks > 0:
            sent = services.session_chunks_send(session_id=session.pk, count=chunks)
            sink.log(f"{left} runs to compute, shared with {sent} more chunk tasks on the backtest queue")

    @property
    def warmup(self) -> int:
        """Candles before range_start the session's runs read (the largest startup_candles of
        its runs), the same for every process of the sweep."""
        if self._warmup is None:
            self._warmup = startup_candles(self.session)
        return self._warmup

    def _fingerprint(self) -> str:
        """Once per session: every run of a sweep reads the same candles, the warm-up before
        range_start included. Known without loading them for generated candles and for archive
        files unchanged since the last hash."""
        session = self.session
        start = candles_start(session, self.warmup)
        probe = candles_fingerprint_probe(
            exchange=session.exchange,
            symbols=[m.symbol for m in self.markets],
            timeframe=session.timeframe,
            start=start,
            end=session.range_end,
        )
        # A generated exchange's rates are a function of its version, like its candles.
        funding = {} if exchange_can(session.exchange, Capability.GENERATED) else self._funding()
        if probe.fingerprint is not None:
            return funding_fingerprint(probe.fingerprint, funding)
        self._candles_load(check=True)
        fingerprint = candles_fingerprint(
            exchange=session.exchange,
            timeframe=session.timeframe,
            start=start,
            end=session.range_end,
            candles=self.candles,
            probe=probe,
        )
        return funding_fingerprint(fingerprint, funding)

    def _funding(self) -> dict:
        """The funding rates the runs pay, loaded once."""
        if self.funding is None:
            self.funding = session_funding(self.session, self.markets, warmup=self.warmup)
        return self.funding

    def _compute(self) -> None:
        """Take the session's next runs and compute them, until none is left or a stop is asked.

        A sweep of a strategy with rules takes SWEEP_CHUNK_RUNS runs at a time and computes
        them in one grid (engine.run_grid: each indicator once, the configs' walks in one
        compiled call), then records each run as run_backtest would have reported it.
        Anything else (a plain backtest, which reports its progress chunk by chunk, a
        per-candle strategy) takes one run at a time."""
        grid = self.sink.runs_total > 1 and self._rules_strategy()
        # Indicators shared by the process's grids too, not only within one (a sweep's runs
        # are in parameter order: the next grid often wants the same windows), a bounded number.
        with indicators.shared(limit=SHARED_INDICATORS) if grid else nullcontext():
            self._claim_loop(grid=grid)

    def _claim_loop(self, *, grid: bool) -> None:
        sink = self.sink
        while not sink.should_stop() and not shutdown_requested.is_set():
            # A warm shutdown: the runs in hand end, no new one is taken; the others (or, once
            # no process heartbeats the session, the resumed session) compute the rest.
            runs = services.runs_claim_next(
                session_id=self.session.pk,
                worker=self.worker,
                pid=sink.pid,
                count=settings.SWEEP_CHUNK_RUNS if grid else 1,
            )
            if not runs:
                return
            sink.held = runs
            if self.candles is None:  # a chunk process: its candles, once (the coordinator
                self._candles_load(check=False)  # checked them)
            stopped = self._grid(runs) if grid else self._one(runs[0])
            sink.held = []
            if stopped:
                return

    def _rules_strategy(self) -> bool:
        """Whether the session's strategy decides by rules alone (the compiled grid applies)."""
        try:
            return get_strategy(self.session.strategy, tuple(settings.STRATEGY_PACKAGES)).uses_rules()
        except Exception:  # an unknown strategy: each run fails with the error, one by one
            return False

    def _one(self, run: Run) -> bool:
        """One run with engine.run_backtest, reporting chunk by chunk; True when it was stopped."""
        sink = self.sink
        sink.take_run(run)
        try:
            result = engine.run_backtest(
                run_config(self.session, run, self.markets), self.candles, sink, funding=self._funding()
            )
        except Exception as exc:  # the strategy's fault: this run fails, the others go on
            sink.fail_run(exc)
            return False
        if result.stopped and sink.handback:  # a warm shutdown, not its owner: computed again
            services.run_requeue(run=run)  # later, from its start, by whichever worker takes it
            return True
        sink.end_sweep_run(result, Status.STOPPED if result.stopped else Status.COMPLETED)
        return result.stopped

    def _grid(self, runs: list[Run]) -> bool:
        """The runs computed together (engine.run_grid), then each recorded: its log lines,
        trades, curve, progress, metrics, results and part of the trades file. A strategy that
        raises sends the runs through run_backtest one by one, so only its own run fails."""
        sink = self.sink
        configs = [run_config(self.session, run, self.markets) for run in runs]
        lines = [_LogLines() for _ in runs]
        began = time.monotonic()
        try:
            results = engine.run_grid(
                configs, self.candles, lines, batch=len(configs), funding=self._funding()
            )
        except Exception as exc:
            sink.log(
                f"The grid of {len(runs)} runs raised ({type(exc).__name__}: {exc}); computing them one by one"
            )
            # Every run taken is ended, even after a stop (then each stops at its first chunk).
            stopped = [self._one(run) for run in runs]
            return any(stopped)
        sink.log(
            f"{len(runs)} runs computed in one grid in {time.monotonic() - began:.2f} s on {self.worker}"
        )
        for run, told, result in zip(runs, lines, results, strict=True):
            sink.take_run(run)
            for line in told.logs:
                sink.on_log(line)
            for event_type, data in told.events:
                sink.on_event(event_type, data)
            sink.on_trades(result.trades)
            sink.on_equity(result.equity)
            sink.on_progress(result.candles, result.candles)
            sink.on_metrics(result.metrics)
            sink.end_sweep_run(result, Status.COMPLETED)
        return False

    def _candles_load(self, *, check: bool) -> None:
        """The runs' candles, warm-up included; the progress counts the range's alone."""
        self.candles = session_candles(self.session, self.markets, warmup=self.warmup)
        if check:
            self._data_check()
            for line in warmup_shortfall(self.session, self.candles, self.warmup):
                self.sink.log(line)
        self.sink.candle_count = max(
            (in_range(self.session, legs) for legs in self.candles.values()), default=0
        )

    def _data_check(self) -> None:
        """Missing candles are told in the events; a range with no data at all fails clearly."""
        session = self.session
        for symbol, legs in self.candles.items():
            if in_range(session, legs) == 0:
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
                self.sink.log(f"Data check {symbol}: {check.summary()}")


class _LogLines(engine.NullSink):
    """A grid run's sink: keeps its log lines and account events (for the session's log and
    story, in the run's turn); its trades, curve and metrics come with its Result."""

    def __init__(self):
        self.logs: list[str] = []
        self.events: list[tuple[str, dict]] = []

    def on_log(self, line: str) -> None:
        self.logs.append(line)

    def on_event(self, event_type: str, data: dict) -> None:
        self.events.append((event_type, data))


def _iso(ts: int | None) -> str:
    return datetime.fromtimestamp(ts, tz=UTC).isoformat() if ts is not None else "?"
