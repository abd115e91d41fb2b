"""The worker's bookkeeping of a running session: claim, heartbeat, results, files, finish;
and the reaper that fails what no worker runs any more."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from sessions_app.list_totals import sessions_changed
from sessions_app.models import Run, Session, Status
from sessions_app.selectors import session_flags
from sessions_app.services.events import event_record
from sessions_app.services.notifications import session_ended_notify


def session_claim(*, session_id: str, worker: str, pid: int) -> Session | None:
    """The worker's first step: take a running, unclaimed session. None when another message
    (a redelivery, a duplicate) or the reaper got there first: then nothing must run."""
    now = timezone.now()
    # One conditional UPDATE: of any number of concurrent claims exactly one changes the row.
    claimed = Session.objects.filter(pk=session_id, status=Status.RUNNING, worker__isnull=True).update(
        worker=worker, pid=pid, heartbeat_at=now
    )
    if not claimed:
        return None
    # Its runs stay `created` until the runner takes each one (run_begin).
    return Session.objects.get(pk=session_id)


def run_begin(*, run: Run, worker: str, pid: int, data_fingerprint: str | None = None) -> None:
    """A run starts on this worker: running, stamped with who runs it and on what candles."""
    fields = {"status": Status.RUNNING, "started_at": timezone.now(), "worker": worker, "pid": pid}
    if data_fingerprint is not None:
        fields["data_fingerprint"] = data_fingerprint
    Run.objects.filter(pk=run.pk, status__in=[Status.CREATED, Status.RUNNING]).update(**fields)


def session_heartbeat(*, session_id: str, progress_done: int, progress_total: int | None) -> tuple[str, bool]:
    """The runner is alive: stamp it and checkpoint progress. Returns (status, stop_requested)
    so the runner learns in the same round trip whether to stop."""
    Session.objects.filter(pk=session_id, status=Status.RUNNING).update(
        heartbeat_at=timezone.now(), progress_done=progress_done, progress_total=progress_total
    )
    return session_flags(session_id)


def session_results_save(
    *, session: Session, run: Run, metrics: dict, equity: list | None = None, status: str | None = None
) -> None:
    """A run's metrics (live checkpoint or final) and the session's results: its only run's,
    or for a sweep the most profitable run's."""
    fields = _result_fields(metrics)
    run_update = {**fields, "metrics": metrics}
    if equity is not None:
        run_update["equity"] = equity
    if status is not None:
        run_update.update(status=status, stopped_at=timezone.now())
    Run.objects.filter(pk=run.pk).update(**run_update)
    best = (
        session.runs.order_by("-total_pnl", "id")
        .values("trade_count", "total_pnl", "win_rate", "max_drawdown", "sharpe")
        .first()
    )
    if best:
        Session.objects.filter(pk=session.pk).update(**best)


def _result_fields(metrics: dict) -> dict:
    def clamp(value, limit):
        value = float(value or 0)
        if value != value or value in (float("inf"), float("-inf")):
            return Decimal(0)
        return Decimal(str(round(max(-limit, min(limit, value)), 8)))

    return {
        "trade_count": int(metrics.get("trade_count") or 0),
        "total_pnl": clamp(metrics.get("total_pnl"), 1e11),
        "win_rate": clamp(metrics.get("win_rate"), 100),
        "max_drawdown": clamp(metrics.get("max_drawdown"), 1e5),
        "sharpe": clamp(metrics.get("sharpe"), 1e7),
    }


def session_files_set(
    *, session: Session, logs_file: str | None = None, trades_file: str | None = None
) -> None:
    fields = {k: v for k, v in (("logs_file", logs_file), ("trades_file", trades_file)) if v}
    Session.objects.filter(pk=session.pk).update(**fields)


def session_finish(
    *, session: Session, status: str, error: str | None = None, data: dict | None = None
) -> bool:
    """Move a running session to its final status (stopped/completed/failed) with an event."""
    now = timezone.now()
    fields = {"status": status, "stopped_at": now, "stop_requested": False}
    if error is not None:
        fields["error"] = error
    changed = Session.objects.filter(pk=session.pk, status=Status.RUNNING).update(**fields)
    if not changed:
        return False
    sessions_changed()
    Run.objects.filter(session_id=session.pk, status__in=[Status.CREATED, Status.RUNNING]).update(
        status=status, stopped_at=now
    )
    if status == Status.FAILED:
        event_record(session=session, event_type="error", data={"error": error, **(data or {})})
    else:
        event_type = "completed" if status == Status.COMPLETED else "stopped"
        event_record(session=session, event_type=event_type, data=data or {})
    # Webhooks go out once the end is committed, from a task: never on the runner's time.
    transaction.on_commit(lambda: session_ended_notify(session_id=session.pk, status=status))
    return True


def sessions_reap(*, restarted_node: str | None = None) -> list[str]:
    """Fail running sessions nobody runs: a heartbeat older than STALE_AFTER_SECONDS ("worker
    lost"), never picked up within PICKUP_TIMEOUT_SECONDS, or left by a worker node that has
    just started again (`restarted_node`: what it ran before cannot be running any more).
    Works with no worker alive."""
    now = timezone.now()
    stale = now - timedelta(seconds=settings.STALE_AFTER_SECONDS)
    unpicked = now - timedelta(seconds=settings.PICKUP_TIMEOUT_SECONDS)
    running = Session.objects.filter(status=Status.RUNNING)
    stale_reason = f"Worker lost: no heartbeat for more than {settings.STALE_AFTER_SECONDS} s."
    unpicked_reason = (
        f"No worker picked the session up within {settings.PICKUP_TIMEOUT_SECONDS} s; "
        "is a worker running for this queue?"
    )
    candidates = [
        (session, stale_reason)
        for session in running.filter(worker__isnull=False, heartbeat_at__lt=stale).only("pk")
    ] + [
        (session, unpicked_reason)
        for session in running.filter(worker__isnull=True, started_at__lt=unpicked).only("pk")
    ]
    if restarted_node:
        candidates += [
            (session, f"Worker lost: {session.worker} restarted.")
            for session in running.filter(worker__startswith=f"{restarted_node}:").only("pk", "worker")
        ]
    failed = []
    for session, reason in candidates:
        # session_finish changes only a still-running row: a session that finished
        # meanwhile is left alone.
        if session_finish(session=session, status=Status.FAILED, error=reason):
            failed.append(session.pk)
    return failed


def sessions_reap_lazily() -> None:
    """Reap on reads too, at most every few seconds, so a dead session shows as failed even
    when neither a worker nor the scheduler is alive."""
    if cache.add("sessions:reap-lazily", 1, timeout=5):
        sessions_reap()
