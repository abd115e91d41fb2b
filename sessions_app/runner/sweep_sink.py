"""What the engine reports of a backtest's runs, recorded by one of the processes computing them."""

from __future__ import annotations

import traceback

from sessions_app import services
from sessions_app.models import Run, Session
from sessions_app.outages import until_database
from sessions_app.runner.sink import SessionSink
from sessions_app.services.trades import trades_insert


class SweepSink(SessionSink):
    """One process's share of a backtest: the runs it claims, one after another (a plain
    backtest is a sweep of one run). Each run's trades are written as they come, waiting out a
    database outage rather than failing, and its part of the trades file when it ends."""

    def __init__(self, session: Session, *, worker: str, run_ids: list[int]):
        super().__init__(session, worker=worker)
        self.candle_count: int | None = None  # per run, once known
        self.first_traceback: str | None = None
        self.run_index = 0
        self.run_positions = {pk: index for index, pk in enumerate(run_ids)}  # run ids -> their order
        self.runs_total = len(run_ids)
        self.held: list[Run] = []  # runs this process claimed and has not ended

    def _trades_record(self, rows: list[tuple], trades) -> None:
        until_database(lambda: trades_insert(rows), what="trades")

    def event(self, event_type: str, data: dict) -> None:
        services.event_record(session=self.session, event_type=event_type, data=data)

    def on_progress(self, done: int, total: int | None) -> None:
        if total is not None and self.runs_total > 1:
            # A sweep's progress counts candles across all its runs.
            done, total = self.run_index * total + done, total * self.runs_total
        super().on_progress(done, total)

    def heartbeat(self) -> None:
        # A sweep's processes share the session: each stamps it (and its own runs), none owns
        # it alone.
        flags = services.session_heartbeat(
            session_id=self.session.pk, progress_done=self.progress_checkpoint(), progress_total=self.total
        )
        if self.held or self.run is not None:
            services.runs_heartbeat(run_ids=[run.pk for run in self.held] or [self.run.pk])
        with self._lock:
            metrics = dict(self.metrics)
        if metrics and self.run is not None:  # the current run's live metrics onto the rows
            services.session_results_save(session=self.session, run=self.run, metrics=metrics)
        self._database_back(0, 0)
        self._flags_apply(flags)

    def take_run(self, run: Run) -> None:
        """A run this process claimed (services.runs_claim_next stamped it). Runs are claimed
        in id order, so the runs before it have ended or are ending: its position counts them
        for the sweep's progress."""
        self.run, self.run_index = run, self.run_positions.get(run.pk, 0)
        # Only the current run's trades are kept: each run's part of the trades file is
        # written when it ends (end_sweep_run).
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
        """A run's end: its part of the sweep's trades file (services.trades.trades_file_assemble
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
