"""The 100-config SmaCross grid of bench.engine as one sweep session through the product:
API start -> completed by a real worker, every run's trades kept and pageable.

Run: DATABASE_URL=... .venv/bin/python -m bench.sweep_year (bench/__main__ sets the env).
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from bench.common import setup_django
from bench.engine import VBT_GRID_FILE
from bench.sessions import peak_rss_mb, timed_session

ROOT = Path(__file__).resolve().parent.parent
YEAR_START = 1_704_067_200  # 2024-01-01 UTC, the year bench.engine runs over
YEAR_END = YEAR_START + 525_600 * 60
# The worker: "solo" (one process), or a prefork pool of that many processes.
POOL = os.environ.get("BENCH_SWEEP_POOL", "solo")


def vectorbt_ratio(seconds: float) -> str:
    """The sweep's time against vectorbt's for the same grid, measured by bench.engine earlier
    in the same run (within the hour), and the target (<= 1.5x)."""
    try:
        measured = json.loads(VBT_GRID_FILE.read_text())
    except (OSError, ValueError):
        measured = None
    if not measured or time.time() - measured["at"] > 3600:
        return "target sweep <= 1.5x vectorbt's grid: not judged (run bench.engine first: `python -m bench engine sweep_year`)"
    ratio = seconds / measured["seconds"]
    return (
        f"ratio sweep/vectorbt grid ({measured['seconds']:.2f} s): {ratio:.2f}x; "
        f"target sweep <= 1.5x vectorbt's grid: {'met' if ratio <= 1.5 else 'MISSED'}"
    )


def main() -> None:
    setup_django(fresh=True)
    from django.contrib.auth.models import User
    from rest_framework.test import APIClient

    from sessions_app.models import Trade

    user = User.objects.create_superuser("bench", "", "bench-password-1")
    client = APIClient()
    client.force_authenticate(user)
    pool = ["-P", "solo"] if POOL == "solo" else ["-P", "prefork", "--concurrency", POOL]
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "config", "worker", *pool, "-Q", "backtest",
         "-n", "bench-sweep@%h", "--without-mingle", "--without-gossip", "--loglevel", "WARNING"],
        cwd=ROOT, env=os.environ.copy(),
    )  # fmt: skip
    try:
        time.sleep(4)  # the worker connects to the broker
        body = {
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "SmaCross",
            "strategy_params": {"position_size": 100},
            "sweep": {"n1": list(range(5, 15)), "n2": list(range(20, 70, 5))},
            "range_start": YEAR_START,
            "range_end": YEAR_END,
        }
        session, seconds = timed_session(client, body)
        runs = session.runs.count()
        trades = Trade.objects.filter(run__session=session).count()
        run = session.runs.order_by("id").first()
        page = client.get(f"/api/sessions/{session.pk}/runs/{run.config_hash}/trades?limit=50").json()
        print(
            f"sweep of {runs} SmaCross configs (fast 5..14 x slow 20..65 step 5) over the year as a "
            f"session: start -> completed in {seconds:.2f} s, {trades:,} trades kept "
            f"(first run's first page: {len(page.get('trades', []))} trades), "
            f"worker peak memory {peak_rss_mb(worker.pid):.0f} MB"
        )
        print(vectorbt_ratio(seconds))
    finally:
        worker.terminate()
        worker.wait(timeout=60)


if __name__ == "__main__":
    main()
