"""Parts a fault test starts for itself, on free ports, so it can break them without touching
the machine's own MariaDB (3306) and Redis (6379): a Redis, a MariaDB, the web app and the API
client that talks to it over HTTP."""

from __future__ import annotations

import os
import pwd
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import MySQLdb
import requests

ROOT = Path(__file__).resolve().parent.parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout} s waiting for {what}")


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.3)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class Redis:
    """redis-server on its own port, no persistence: kill() and start() again at will."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> Redis:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self.workdir,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _port_open(self.port), 20, "redis-server to listen")
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        wait_until(lambda: not _port_open(self.port), 10, "redis-server to be gone")

    def close(self) -> None:
        self.kill()


class MariaDB:
    """mariadbd on a data directory of its own (mariadb-install-db), root without password."""

    def __init__(self, workdir: Path):
        self.port = free_port()
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.process: subprocess.Popen | None = None
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
                "--user=" + _user(),
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def url(self, database: str) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    def start(self) -> MariaDB:
        self.process = subprocess.Popen(
            [
                "mariadbd",
                "--no-defaults",
                f"--datadir={self.datadir}",
                f"--port={self.port}",
                f"--socket={self.workdir / 'sock'}",
                f"--pid-file={self.workdir / 'pid'}",
                "--bind-address=127.0.0.1",
                "--user=" + _user(),
                "--skip-log-bin",
                "--innodb-buffer-pool-size=32M",
                "--skip-name-resolve",
            ],
            stdout=subprocess.DEVNULL,
            stderr=open(self.workdir / "server.log", "ab"),
        )
        wait_until(lambda: self.query("SELECT 1") is not None, 60, "mariadbd to accept connections", 0.5)
        return self

    def query(self, sql: str, database: str | None = None):
        try:
            conn = MySQLdb.connect(host="127.0.0.1", port=self.port, user="root", database=database or "")
        except MySQLdb.OperationalError:
            return None
        try:
            cursor = conn.cursor()
            cursor.execute(sql)
            conn.commit()
            return cursor.fetchall()
        finally:
            conn.close()

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        wait_until(lambda: not _port_open(self.port), 10, "mariadbd to be gone")

    def close(self) -> None:
        self.kill()


def _user() -> str:
    return pwd.getpwuid(os.getuid()).pw_name


def manage(env: dict, *args: str) -> str:
    """`manage.py <args>` with `env`, its output (raises with it on failure)."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=240
    )
    if done.returncode:
        raise AssertionError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


class Web:
    """The product's web app (runserver, no autoreload) on a free port with `env`."""

    def __init__(self, env: dict, log_path: Path):
        self.port = free_port()
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "manage.py",
                "runserver",
                "--noreload",
                "--nothreading",
                f"127.0.0.1:{self.port}",
            ],
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        wait_until(lambda: _port_open(self.port), 60, "the web app to listen", 0.3)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()


class Api:
    """Token-authenticated JSON calls to a web app over HTTP."""

    def __init__(self, base: str, token: str):
        self.base, self.http = base, requests.Session()
        self.http.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        response = self.http.request(method, self.base + path, json=body, timeout=30)
        return response.status_code, response.json()


CREATE_OPERATOR = """
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.auth.models import Permission, User
from django.contrib.sessions.backends.db import SessionStore
from rest_framework.authtoken.models import Token
user, _ = User.objects.get_or_create(username="faults")
user.user_permissions.add(Permission.objects.get(codename="operate_session"))
login = SessionStore()
login[SESSION_KEY] = str(user.pk)
login[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
login[HASH_SESSION_KEY] = user.get_session_auth_hash()
login.save()
print(Token.objects.get_or_create(user=user)[0].key, login.session_key)
"""


def operator_login(env: dict) -> tuple[str, str]:
    """An operator in that database: (API token, a logged-in browser session's cookie value)."""
    token, session_key = manage(env, "shell", "-c", CREATE_OPERATOR).strip().splitlines()[-1].split()
    return token, session_key


class Worker:
    """A `celery worker` process (solo pool) with `env`: the product's worker as deployed."""

    def __init__(self, env: dict, log_path: Path, *, queues: str = "test", name: str = "faults@%h"):
        self.log = open(log_path, "ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "config",
                "worker",
                "-P",
                "solo",
                "-Q",
                queues,
                "-n",
                name,
                "--without-mingle",
                "--without-gossip",
                "--loglevel",
                "WARNING",
            ],  # fmt: skip
            cwd=ROOT,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self.log.close()
