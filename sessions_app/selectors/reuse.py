"""Reuse: the completed runs an identical run can copy instead of computing again."""

from __future__ import annotations

from sessions_app.models import Run, Session, Status


def runs_reusable(*, session: Session, data_fingerprint: str) -> dict[str, Run]:
    """For each of the session's config hashes, the earliest completed run of another session
    with the same hash and data fingerprint (same config, same candles: same results)."""
    hashes = list(session.runs.values_list("config_hash", flat=True))
    sources = (
        Run.objects.filter(config_hash__in=hashes, data_fingerprint=data_fingerprint, status=Status.COMPLETED)
        .exclude(session_id=session.pk)
        .defer("equity")  # copied inside the database (services.runs_reuse), never read here
        .order_by("-id")
    )
    # Oldest last, so it wins: the run first computed rather than a copy of it.
    return {run.config_hash: run for run in sources}
