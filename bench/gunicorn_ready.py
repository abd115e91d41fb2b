"""gunicorn settings of the benchmarks' server (bench.reads.start_server): each worker, once it
has loaded the app (config/wsgi.py: imports, warm-up, gc.freeze), leaves a file named by its
pid in BENCH_READY_DIR, so measuring starts when every worker serves, not while one of them
is still loading beside the requests of the other."""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    (Path(os.environ["BENCH_READY_DIR"]) / str(worker.pid)).touch()
