"""`make bench`: every performance figure in one run, each part in its own process and database.

- engine candles/s (TestBot, SmaCross) against vectorbt and backtesting.py, a 100-config grid
  against vectorbt's, the first run in a fresh process, the sim year, archive load time;
- the engine's 100-config year grid as a sweep session (bench.sweep_year);
- the Running tab's poll with 10 running sessions (server time);
- API list latency p50/p95 with 100,000 sessions on SQLite and on MariaDB (when reachable);
- the chart endpoint: a year of 1m candles aggregated to 2,000 points, p50/p95;
- reads at scale (bench.reads): the lists, a run of 1,000,000 trades and the History tab over
  HTTP through gunicorn, on both databases.
- a one-year 1m backtest and the 100-run sweep through a real worker pool (2 processes), and
  the same sweep cloned (every run reused);
- GET /api/runs over HTTP with 100,000 runs at cursor depths 1, 100, 1,000, on both.

`python -m bench sessions runs_latency` runs only those modules (bench.<name>), on every
database they run on.
"""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_VAR = ROOT / "var" / "bench"


def run_module(module: str, env: dict[str, str] | None = None) -> None:
    print(
        f"\n=== {module} {' '.join(f'{k}={v}' for k, v in (env or {}).items() if k == 'DATABASE_URL')}",
        flush=True,
    )
    subprocess.run([sys.executable, "-m", module], cwd=ROOT, env={**os.environ, **(env or {})}, check=True)


def mariadb_up() -> bool:
    try:
        import MySQLdb

        MySQLdb.connect(host="127.0.0.1", port=3306, user="root").close()
        return True
    except Exception:
        return False


def main() -> None:
    BENCH_VAR.mkdir(parents=True, exist_ok=True)
    only = {f"bench.{name}" for name in sys.argv[1:]}

    def run(module: str, env: dict[str, str] | None = None) -> None:
        if not only or module in only:
            run_module(module, env)

    run("bench.engine")
    sqlite = {
        "DATABASE_URL": f"sqlite:///{BENCH_VAR / 'bench.sqlite3'}",
        "CELERY_BROKER_URL": "filesystem://",
        "CELERY_BROKER_DIR": str(BENCH_VAR / "broker"),
        "DATA_ROOT": str(BENCH_VAR / "data"),
        "REDIS_URL": "",
        "DEBUG": "false",
        "SECURE_SSL_REDIRECT": "false",
        "SECRET_KEY": "bench-only-key-" + "x" * 40,
        "SESSION_LIMITS": "test=3,backtest=2,scraper=5",
    }
    run("bench.sessions", sqlite)
    run("bench.sweep_year", sqlite)
    run("bench.dashboard_poll", sqlite)
    run("bench.api_latency", sqlite)
    run("bench.charts", sqlite)
    run("bench.runs_latency", {**sqlite, "DATABASE_URL": f"sqlite:///{BENCH_VAR / 'runs.sqlite3'}"})
    # 100,000 sessions and a run of 1,000,000 trades, over HTTP through gunicorn.
    run("bench.reads", {**sqlite, "DATABASE_URL": f"sqlite:///{BENCH_VAR / 'reads.sqlite3'}"})
    if mariadb_up():
        mariadb = {**sqlite, "DATABASE_URL": "mysql://root@127.0.0.1:3306/trading_bench"}
        run("bench.api_latency", mariadb)
        run("bench.runs_latency", mariadb)
        run("bench.reads", {**mariadb, "DATABASE_URL": "mysql://root@127.0.0.1:3306/trading_bench_reads"})
    else:
        print("\nMariaDB at 127.0.0.1:3306 is not reachable: its API latency is not measured.")


if __name__ == "__main__":
    main()
