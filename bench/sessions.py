"""Whole sessions through a real worker pool (prefork, 2 processes, as on this 2-core box): a
one-year 1m backtest, a 100-run sweep shared by both processes (its chunks), and the same sweep
cloned (every run reused). `python -m bench.sessions sweep` runs only the sweeps."""

import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import setup_django

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = 1_735_689_600  # 2025-01-01 UTC
YEAR_END = YEAR_START + 365 * 86_400


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def wait_done(session_id: str, timeout: float = 600):
    from sessions_app.models import Session

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        session = Session.objects.get(pk=session_id)
        if session.status not in ("created", "running"):
            return session
        time.sleep(0.02)
    raise SystemExit(f"session {session_id} did not finish within {timeout} s")


def timed_session(client, body: dict):
    """Create and start a session through the API; (finished session, seconds from start)."""
    session_id = client.post("/api/sessions", body, format="json").json()["session"]["id"]
    began = time.perf_counter()
    client.post(f"/api/sessions/{session_id}/start")
    session = wait_done(session_id)
    assert session.status == "completed", session.error
    return session, time.perf_counter() - began


POOL = int(os.environ.get("BENCH_WORKER_PROCESSES", "2"))


def main() -> None:
    only_sweeps = sys.argv[1:] == ["sweep"]
    setup_django(fresh=True)
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    user = User.objects.create_superuser("bench", "", "bench-password-1")
    client = APIClient()
    client.force_authenticate(user)
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-P",
            "prefork",
            "--concurrency",
            str(POOL),
            "-Q",
            "backtest",
            "-n",
            "bench@%h",
            "--without-mingle",
            "--without-gossip",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
    )
    try:
        time.sleep(4)  # the worker connects to the broker
        if not only_sweeps:
            one_year(client, worker)
        sweeps(client, worker)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


def pool_rss_mb(worker) -> float:
    """Peak memory of the pool's biggest process (the master or one of its children)."""
    children = Path(f"/proc/{worker.pid}/task/{worker.pid}/children")
    pids = (
        [worker.pid, *(int(p) for p in children.read_text().split())] if children.exists() else [worker.pid]
    )
    return max(peak_rss_mb(pid) for pid in pids)


def one_year(client, worker) -> None:
    body = {
        "type": "backtest",
        "market": "XBTUSD",
        "strategy": "SmaCross",
        "strategy_params": {"n1": 10, "n2": 20, "position_size": 100},
        "range_start": YEAR_START,
        "range_end": YEAR_END,
    }
    session, seconds = timed_session(client, body)
    print(
        f"one year of 1m candles ({session.progress_total:,}), SmaCross 10/20 on XBTUSD: "
        f"start -> completed in {seconds:.2f} s, {session.trade_count:,} trades written, "
        f"worker peak memory {pool_rss_mb(worker):.0f} MB"
    )


def sweeps(client, worker) -> None:
    sweep = {
        "n1": [5, 10, 15, 20, 25, 30, 35, 40, 45, 50],
        "n2": [60, 70, 80, 90, 100, 110, 120, 130, 140, 150],
    }
    month_end = YEAR_START + 30 * 86_400
    body = {
        "type": "backtest",
        "market": "ETHUSD",
        "strategy": "SmaCross",
        "sweep": sweep,
        "range_start": YEAR_START,
        "range_end": month_end,
    }
    session, seconds = timed_session(client, body)
    runs = session.runs.count()
    pids = sorted(set(session.runs.values_list("pid", flat=True)))
    print(
        f"sweep of {runs} runs x 30 days of 1m ({30 * 1440:,} candles each) on a pool of {POOL}: "
        f"start -> completed in {seconds:.2f} s ({runs / seconds:.1f} runs/s; target < 2.85 s), "
        f"runs computed by {len(pids)} processes, best pnl {float(session.total_pnl):.2f}, "
        f"worker peak memory {pool_rss_mb(worker):.0f} MB"
    )

    # The same sweep again: every run matches a completed one and is reused, not computed.
    clone_id = client.post(f"/api/sessions/{session.pk}/clone", {}, format="json").json()["session"]["id"]
    began = time.perf_counter()
    client.post(f"/api/sessions/{clone_id}/start")
    clone = wait_done(clone_id)
    seconds = time.perf_counter() - began
    assert clone.status == "completed", clone.error
    reused = clone.runs.filter(reused_from__isnull=False).count()
    print(
        f"the same sweep cloned: start -> completed in {seconds:.2f} s (target < 1 s), "
        f"{reused} of {clone.runs.count()} runs reused"
    )


if __name__ == "__main__":
    main()
