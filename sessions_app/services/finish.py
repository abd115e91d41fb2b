"""How a session and its runs end: a run that failed, a session moved to its final status
with its event and webhooks, and a sweep ended by the last of its processes."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone

from sessions_app.list_totals import sessions_changed
from sessions_app.models import Run, Session, Status
from sessions_app.services.events import event_record
from sessions_app.services.notifications import session_ended_notify
from sessions_app.services.retry import deadlock_retried
from sessions_app.services.trades import trades_file_assemble


def run_fail(*, run: Run, error: str) -> None:
    """One run of a sweep failed (its strategy raised); the others go on."""
    deadlock_retried(
        lambda: Run.objects.filter(pk=run.pk, status__in=[Status.CREATED, Status.RUNNING]).update(
            status=Status.FAILED, error=error[:4000], stopped_at=timezone.now()
        )
    )


def session_finish(
    *,
    session: Session,
    status: str,
    error: str | None = None,
    data: dict | None = None,
    worker: str | None = None,
) -> bool:
    """Move a running session to its final status (stopped/completed/failed) with an event.
    With `worker`, only while that worker runs it (a runner the reaper replaced ends nothing)."""
    # One transaction: a deadlock victim rolled back whole is ended whole when tried again
    # (statement by statement, a retry would find the session ended and leave its runs running).
    return deadlock_retried(
        lambda: _session_end(session=session, status=status, error=error, data=data, worker=worker)
    )


def _session_end(
    *, session: Session, status: str, error: str | None, data: dict | None, worker: str | None
) -> bool:
    now = timezone.now()
    fields = {"status": status, "stopped_at": now, "stop_requested": False}
    if error is not None:
        fields["error"] = error
    with transaction.atomic():
        running = Session.objects.filter(pk=session.pk, status=Status.RUNNING)
        changed = (running.filter(worker=worker) if worker else running).update(**fields)
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


def session_sweep_finish(
    *,
    session_id: str,
    progress: tuple[int, int | None] | None = None,
    traceback: str | None = None,
    reason: str | None = None,
) -> str | None:
    """End a backtest whose runs are spread over processes, once nothing is left to run;
    returns the final status, or None when some run is still going (its process ends it).

    Every process calls this after its last run: the last one to look sees no run left. A stop
    waits only for the running runs (the `created` ones end `stopped` with the session). The
    session is `completed` when at least one run completed (the summary's `error_count` says
    how many did not), `failed` when none did, `stopped` when its owner stopped it.
    """
    return deadlock_retried(
        lambda: _sweep_finish(session_id=session_id, progress=progress, traceback=traceback, reason=reason)
    )


def _sweep_finish(
    *, session_id: str, progress: tuple[int, int | None] | None, traceback: str | None, reason: str | None
) -> str | None:
    # The session's row locked (SQLite: the IMMEDIATE transaction's write lock): two processes
    # ending their last runs at once both see none left, and only one may write the trades file
    # and end the session. Nothing else waits on it by then: every run has ended.
    with transaction.atomic():
        session = Session.objects.select_for_update().filter(pk=session_id, status=Status.RUNNING).first()
        if session is None:
            return None
        counts = dict(
            Run.objects.filter(session_id=session_id).values_list("status").annotate(n=Count("id")).order_by()
        )
        running, waiting = counts.get(Status.RUNNING, 0), counts.get(Status.CREATED, 0)
        if running or (waiting and not session.stop_requested):
            return None
        failed = list(
            Run.objects.filter(session_id=session_id, status=Status.FAILED)
            .order_by("id")
            .values("id", "config_hash", "error")
        )
        status, error = _sweep_status(session, counts, failed, reason)
        if progress is None and status != Status.STOPPED and session.progress_total:
            # Ended by a process that computed nothing (a late chunk, the reaper): every run
            # has ended, so every candle of the total the others reported was walked.
            progress = (session.progress_total, session.progress_total)
        if progress is not None:
            Session.objects.filter(pk=session_id).update(
                progress_done=progress[0], progress_total=progress[1]
            )
        trades_file_assemble(session=session, copy_of=_copied_session(session))
        data = _sweep_summary(session, progress, failed)
        if status == Status.FAILED and traceback:
            data["traceback"] = traceback[-4000:]
        if failed and status != Status.FAILED:  # the session completed, but not every run did
            event_record(
                session=session,
                event_type="error",
                data={"error": f"{len(failed)} of {sum(counts.values())} runs failed.", **data},
            )
        ended = session_finish(session=session, status=status, error=error, data=data)
        return status if ended else None


def _sweep_status(
    session: Session, counts: dict[str, int], failed: list[dict], reason: str | None
) -> tuple[str, str | None]:
    """The ended sweep's final status and error: stopped by its owner, completed when a run
    completed, else failed with the reason, the first run's error or a plain one."""
    if session.stop_requested:
        return Status.STOPPED, None
    if counts.get(Status.COMPLETED, 0):
        return Status.COMPLETED, None
    return Status.FAILED, reason or (
        failed[0]["error"] if failed else None
    ) or "No run of the session completed."


def _sweep_summary(
    session: Session, progress: tuple[int, int | None] | None, failed: list[dict]
) -> dict[str, Any]:
    """The ended sweep's event data: its trades, progress, the best run's plain metrics and
    the runs that failed (the first hundred)."""
    runs = Run.objects.filter(session_id=session.pk)
    best = runs.order_by("-total_pnl", "id").values("metrics").first()
    data: dict[str, Any] = {
        "trade_count": runs.aggregate(n=Sum("trade_count"))["n"] or 0,
        "progress_done": progress[0] if progress else session.progress_done,
        "metrics": {
            k: v for k, v in ((best or {}).get("metrics") or {}).items() if not isinstance(v, (list, dict))
        },
    }
    if failed:
        data["failed_runs"] = [
            {"id": r["id"], "config_hash": r["config_hash"], "error": r["error"]} for r in failed[:100]
        ]
        data["error_count"] = len(failed)
    return data


def _copied_session(session: Session) -> Session | None:
    """The one session every run of `session` was copied from, run for run in the same order
    (a cloned sweep, all reused); else None."""
    runs = list(
        Run.objects.filter(session_id=session.pk)
        .order_by("id")
        .values_list("config_hash", "reused_from__session_id")
    )
    sources = {source for _hash, source in runs}
    if len(sources) != 1 or None in sources:
        return None
    source = Session.objects.filter(pk=sources.pop()).first()
    if source is None:
        return None
    source_hashes = list(
        Run.objects.filter(session_id=source.pk).order_by("id").values_list("config_hash", flat=True)
    )
    return source if source_hashes == [h for h, _s in runs] else None
