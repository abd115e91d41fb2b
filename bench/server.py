"""The production web server on a free port, as `make run` serves (gunicorn, config.wsgi), for
the benchmarks that measure over HTTP and the tests that check production serving."""

from __future__ import annotations

import io
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def collectstatic(env: dict[str, str]) -> None:
    """The hashed static files gunicorn serves through whitenoise with DEBUG off."""
    done = subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0:
        raise RuntimeError(f"collectstatic failed:\n{done.stdout}{done.stderr}")


def gunicorn_start(
    port: int,
    *,
    env: dict[str, str],
    workers: int = 2,
    threads: int = 4,
    log: IO[bytes] | None = None,
    args: tuple[str, ...] = ("--log-level", "warning"),
    timeout: float = 60,
) -> subprocess.Popen:
    """gunicorn serving config.wsgi on 127.0.0.1:`port` (bin/run's 2 workers x 4 threads by
    default), once every worker has loaded the app (bench/gunicorn_hooks.py) and it accepts
    connections; RuntimeError when it exits or is not ready within `timeout`."""
    ready = Path(tempfile.mkdtemp(prefix="gunicorn-ready-"))
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "config.wsgi:application",
            "--config",
            str(ROOT / "bench" / "gunicorn_hooks.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            *args,
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_READY_DIR": str(ready)},
        stdout=log,
        stderr=subprocess.STDOUT if log is not None else None,
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}")
            try:
                if len(list(ready.iterdir())) >= workers:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    return process
            except OSError:
                pass
            if time.monotonic() > deadline:
                process.kill()
                process.wait(timeout=10)
                raise RuntimeError(
                    f"gunicorn's {workers} workers were not serving on {port} within {timeout:.0f} s"
                )
            time.sleep(0.1)
    finally:
        shutil.rmtree(ready, ignore_errors=True)


def stop(process: subprocess.Popen) -> None:
    """SIGTERM (gunicorn's graceful stop), then SIGKILL after 15 s."""
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def wsgi_get(application, path: str, headers: dict[str, str]) -> tuple[str, bytes]:
    """GET `path` from a WSGI application as gunicorn calls it, with `headers` as environ keys
    (HTTP_COOKIE, HTTP_AUTHORIZATION, HTTP_HOST): (status line, body)."""
    route, _, query = path.partition("?")
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": route,
        "QUERY_STRING": query,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_HOST": "127.0.0.1:8000",
        **headers,
        "wsgi.input": io.BytesIO(b""),
        "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr,
    }
    status = []
    answer = application(environ, lambda line, _headers: status.append(line))
    try:
        body = b"".join(answer)
    finally:
        answer.close()
    return status[0], body
