"""Files the product writes are 0600 in 0700 folders (config/private_files.py).

The start code runs in the product's own processes (manage.py, config.wsgi, `celery worker`),
not in the test process, so each test starts one as the product does: a fresh VAR_DIR and
DATA_ROOT given by the environment, or the real worker process on the test database.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from sessions_app import services
from tests.worker_fixtures import session_ended, wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
LEGACY_TRADES = ROOT / "tests" / "sessions" / "fixtures" / "legacy_test_trades.json"
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


def product_env(tmp_path: Path) -> dict[str, str]:
    """The embedded installation in a fresh VAR_DIR: SQLite, file cache, filesystem broker, a
    generated secret key, DATA_ROOT beside it; production settings."""
    dropped = (
        "DATABASE_URL",
        "REDIS_URL",
        "CELERY_BROKER_URL",
        "CELERY_BROKER_DIR",
        "SECRET_KEY",
        "DJANGO_ALLOW_ASYNC_UNSAFE",
    )
    return {
        **{key: value for key, value in os.environ.items() if key not in dropped},
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "false",
        "VAR_DIR": str(tmp_path / "var"),
        "DATA_ROOT": str(tmp_path / "data"),
    }


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, f"manage.py {' '.join(args)}:\n{done.stdout}{done.stderr}"
    return done.stdout


def modes(*roots: Path) -> dict[str, str]:
    """Every folder and file under the roots (themselves included) -> its mode, octal."""
    found = {}
    for root in roots:
        for path in [root, *root.rglob("*")]:
            found[str(path)] = oct(stat.S_IMODE(path.lstat().st_mode))
    return found


def not_private(*roots: Path) -> dict[str, str]:
    return {
        path: mode
        for path, mode in modes(*roots).items()
        if mode != ("0o700" if Path(path).is_dir() else "0o600")
    }


def test_a_fresh_installation_writes_every_file_private(tmp_path):
    """The database, its WAL, the secret key, the cache, the broker's folders, a trades file,
    a cold-storage archive and the trades file a restore writes again: 0600 in 0700."""
    env = product_env(tmp_path)
    var, data = tmp_path / "var", tmp_path / "data"

    manage(env, "migrate", "--noinput", "--verbosity", "0")
    manage(env, "import_legacy_trades", str(LEGACY_TRADES), "--type", "backtest", "--market", "XBTUSD")
    manage(env, "cleanup_sessions", "--older-than", "0")
    (archive,) = (data / "cold").rglob("*.json.gz")
    manage(env, "restore_session", str(archive))

    written = modes(var, data)
    assert {str(var / "db.sqlite3"), str(var / "secret_key")} <= set(written)
    assert [p for p in written if p.startswith(str(data / "trades" / "trades_"))]
    assert not_private(var, data) == {}


def test_a_start_tightens_an_older_installation_without_walking_it(tmp_path):
    """What an older version left 0755/0644: VAR_DIR, DATA_ROOT and the SQLite files made
    private at the next start; what lies deeper is already out of other users' reach (its
    folder is 0700) and is left as it is: a start never walks DATA_ROOT's files."""
    env = product_env(tmp_path)
    var, data = tmp_path / "var", tmp_path / "data"
    (data / "logs").mkdir(parents=True)
    var.mkdir()
    for folder in (var, data, data / "logs"):
        folder.chmod(0o755)
    for file in (
        var / "db.sqlite3",
        var / "db.sqlite3-wal",
        var / "db.sqlite3-shm",
        var / "secret_key",
        data / "logs" / "old.log",
    ):
        file.write_text("" if "sqlite" in file.name else "kept\n")
        file.chmod(0o644)
    (var / "secret_key").chmod(0o600)

    umask = manage(env, "shell", "-c", "import os; print(oct(os.umask(0o077)))")

    assert umask.strip().splitlines()[-1] == "0o77"
    tightened = {
        str(var): "0o700",
        str(var / "db.sqlite3"): "0o600",
        str(var / "db.sqlite3-wal"): "0o600",
        str(var / "db.sqlite3-shm"): "0o600",
        str(var / "secret_key"): "0o600",
        str(data): "0o700",
    }
    left_as_they_are = {str(data / "logs"): "0o755", str(data / "logs" / "old.log"): "0o644"}
    found = modes(var, data)
    assert {path: found[path] for path in {**tightened, **left_as_they_are}} == {
        **tightened,
        **left_as_they_are,
    }
    made_by_this_start = {path for path in found if path not in {**tightened, **left_as_they_are}}
    assert made_by_this_start and {p: m for p, m in not_private(var).items() if p in made_by_this_start} == {}


@pytest.mark.parametrize("module", ["config.wsgi", "config.asgi"])
def test_the_web_server_process_has_the_private_umask(module, tmp_path):
    """As gunicorn's worker loads the app: importing config.wsgi sets the umask first."""
    done = subprocess.run(
        [sys.executable, "-c", f"import os, {module}; print(oct(os.umask(0o077)))"],
        cwd=ROOT,
        env={**product_env(tmp_path), "SECRET_KEY": "private-files-test-" + "k7Qz" * 10},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "0o77"


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_the_worker_writes_the_session_log_and_trades_file_private(worker_process, operator, data_root):
    """`celery worker` as the Procfile starts it (a prefork pool): its process and pool child
    have the umask, and a backtest's log and trades file are 0600 in 0700 folders."""
    process = worker_process(queues=("backtest",), pool="prefork")
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "range_start": RANGE_START,
            "range_end": RANGE_START + 86_400,
        },
    )
    services.session_start(session=session)
    session = wait_for(lambda: session_ended(session.pk), timeout=90, message="the backtest to end")

    assert session.status == "completed", session.error
    assert "Umask:\t0077" in Path(f"/proc/{process.pid}/status").read_text()
    assert "Umask:\t0077" in Path(f"/proc/{session.pid}/status").read_text()  # the pool child
    assert Path(session.logs_file).parent == data_root / "logs"
    assert Path(session.trades_file).parent == data_root / "trades"
    assert not_private(data_root) == {}
