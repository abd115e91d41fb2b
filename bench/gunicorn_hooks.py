"""gunicorn settings of bench.server.gunicorn_start: each worker, once it has loaded the app
(config/wsgi.py: imports, warm-up, gc.freeze), leaves a file named by its pid in
GUNICORN_READY_DIR, so the server counts as started when every worker serves, not while one
of them is still loading beside the requests of another."""

import os
from pathlib import Path


def post_worker_init(worker) -> None:
    (Path(os.environ["GUNICORN_READY_DIR"]) / str(worker.pid)).touch()
