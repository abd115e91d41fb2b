"""manage.py cleanup_sessions: finished sessions to cold storage, checked, then deleted."""

from __future__ import annotations

import errno
import gzip
import json
import os
import threading
import time
from datetime import UTC, timedelta
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent, Trade
from tests.sessions.archive_helpers import file_permissions_enforced, finish, umask


@pytest.fixture(autouse=True)
def _room_for_sessions(session_limits, data_root):
    """Several test sessions running at once; every file under a private DATA_ROOT."""


def cleanup(*args: str) -> str:
    out = StringIO()
    call_command("cleanup_sessions", *args, stdout=out)
    return out.getvalue()


def archive_of(root: Path, session: Session) -> Path:
    stopped = session.stopped_at.astimezone(UTC)
    return root / "sessions" / f"{stopped:%Y}" / f"{stopped:%m}" / f"{session.pk}.json.gz"


def archived_files(root: Path) -> list[Path]:
    return sorted(root.rglob("*")) if root.exists() else []


@pytest.fixture
def mix(make_session):
    """Old finished sessions of each status, a recent one, a running and a created one."""
    sessions = {
        "completed": finish(make_session, status="completed", days_ago=40, trades=3),
        "stopped": finish(make_session, status="stopped", days_ago=45, trades=2),
        "failed": finish(make_session, status="failed", days_ago=31, trades=1, log=None),
        "recent": finish(make_session, status="completed", days_ago=5, trades=4),
        "running": make_session(start=True),
        "created": make_session(),
    }
    # A running session with an (odd) old stopped_at is still never touched.
    Session.objects.filter(pk=sessions["running"].pk).update(stopped_at=timezone.now() - timedelta(days=90))
    return sessions


def test_it_archives_and_deletes_finished_sessions_older_than_the_days_only(mix, data_root):
    old = {"completed": 3, "stopped": 2, "failed": 1}  # key -> trades
    files = {key: (Path(mix[key].trades_file), mix[key].logs_file) for key in old}

    out = cleanup("--older-than", "30")

    assert "3 sessions archived and deleted (6 trades)" in out
    left = set(Session.objects.values_list("pk", flat=True))
    assert left == {mix["recent"].pk, mix["running"].pk, mix["created"].pk}
    gone = [mix[key].pk for key in old]
    assert not Run.objects.filter(session_id__in=gone).exists()
    assert not SessionEvent.objects.filter(session_id__in=gone).exists()
    assert Trade.objects.count() == 4  # the recent session's
    assert {p for p in archived_files(data_root / "cold") if p.is_file()} == {
        archive_of(data_root / "cold", mix[key]) for key in old
    }
    for key, trades in old.items():
        session = mix[key]
        trades_file, log_file = files[key]
        assert not trades_file.exists() and not (log_file and Path(log_file).exists())
        document = json.loads(gzip.decompress(archive_of(data_root / "cold", session).read_bytes()))
        assert document["format"] == "trading-session-archive" and document["version"] == 1
        assert (document["session"]["id"], document["session"]["status"]) == (session.pk, key)
        assert len(document["trades"]) == document["trade_count"] == trades
        assert len(document["runs"]) == 1 and document["events"][-1]["event_type"] == "info"
        assert document["log"] == (None if key == "failed" else "line one\nline two\n")
    recent = Session.objects.get(pk=mix["recent"].pk)
    assert Path(recent.trades_file).exists() and Path(recent.logs_file).exists()


def test_the_archive_holds_every_trade_as_columns_and_rows(make_session, data_root):
    session = finish(make_session, trades=5)
    expected = list(
        Trade.objects.filter(run__session=session).order_by("id").values_list("id", "entry_price")
    )

    cleanup("--older-than", "30")

    document = json.loads(gzip.decompress(archive_of(data_root / "cold", session).read_bytes()))
    columns = document["trade_columns"]
    assert columns[0] == "id" and {"run_id", "entry_price", "realized_pnl", "fee"} <= set(columns)
    got = [(row[columns.index("id")], row[columns.index("entry_price")]) for row in document["trades"]]
    assert got == [(pk, str(price)) for pk, price in expected]


def test_status_narrows_the_cleanup_to_failed_sessions(mix, data_root):
    out = cleanup("--older-than", "30", "--status", "failed")

    assert "1 sessions archived and deleted (1 trades)" in out
    assert not Session.objects.filter(pk=mix["failed"].pk).exists()
    assert Session.objects.filter(pk__in=[mix["completed"].pk, mix["stopped"].pk]).count() == 2
    assert archive_of(data_root / "cold", mix["failed"]).exists()


def test_archive_puts_the_files_in_the_given_directory(make_session, tmp_path):
    session = finish(make_session, days_ago=60)

    cleanup("--older-than", "30", "--archive", str(tmp_path / "vault"))

    assert archive_of(tmp_path / "vault", session).exists()
    assert not Session.objects.filter(pk=session.pk).exists()


def test_older_than_zero_takes_every_finished_session(mix):
    out = cleanup("--older-than", "0")

    assert "4 sessions archived and deleted (10 trades)" in out
    assert set(Session.objects.values_list("status", flat=True)) == {"running", "created"}


def test_a_dry_run_prints_what_it_would_do_and_changes_nothing(mix, row_counts, data_root):
    before = row_counts()

    out = cleanup("--older-than", "30", "--dry-run")

    assert row_counts() == before
    assert archived_files(data_root / "cold") == []
    assert "Dry run: 3 sessions would be archived and deleted (6 trades); nothing changed." in out
    for key in ("completed", "stopped", "failed"):
        session = mix[key]
        line = next(line for line in out.splitlines() if session.pk in line)
        assert session.name in line and session.status in line and session.stopped_at.isoformat() in line
        assert str(archive_of(data_root / "cold", session)) in line
    assert "3 trades" in next(line for line in out.splitlines() if mix["completed"].pk in line)
    for key in ("recent", "running", "created"):
        assert mix[key].pk not in out


@pytest.mark.parametrize(
    ("args", "option", "says"),
    [
        (["--older-than", "-1"], "--older-than", "whole number"),
        (["--older-than", "soon"], "--older-than", "whole number"),
        (["--older-than", "30", "--status", "running"], "--status", "never"),
        (["--older-than", "30", "--status", "created,failed"], "--status", "never"),
        (["--older-than", "30", "--status", "nonsense"], "--status", "nonsense"),
        (["--older-than", "30", "--archive", "{file}"], "--archive", "is a file"),
        (["--status", "failed"], "--older-than", "required"),
    ],
)
def test_bad_input_is_refused_naming_the_option_and_changes_nothing(
    args, option, says, mix, row_counts, data_root, tmp_path
):
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    args = [arg.replace("{file}", str(a_file)) for arg in args]
    before = row_counts()

    with pytest.raises(CommandError) as refused:
        cleanup(*args)

    assert option in str(refused.value) and says in str(refused.value)
    assert "Traceback" not in str(refused.value)
    assert row_counts() == before
    assert archived_files(data_root / "cold") == []
    assert a_file.read_text() == "x"


def test_an_archive_that_cannot_be_written_deletes_nothing(make_session, row_counts, tmp_path):
    session = finish(make_session)
    vault = tmp_path / "vault"
    vault.mkdir()
    vault.chmod(0o555)
    before = row_counts()

    with file_permissions_enforced(), pytest.raises(CommandError) as refused:
        cleanup("--older-than", "30", "--archive", str(vault))

    vault.chmod(0o755)
    assert "1 sessions could not be archived" in str(refused.value) and session.pk in str(refused.value)
    assert "Permission denied" in str(refused.value)
    assert row_counts() == before
    assert Path(session.trades_file).exists() and Path(session.logs_file).exists()
    assert archived_files(vault) == []


def test_an_archive_that_does_not_read_back_deletes_nothing(make_session, row_counts, tmp_path):
    """The file is written and renamed, but (umask 0477: write-only) cannot be read back:
    the check fails, so the session stays, and the unchecked file is removed."""
    session = finish(make_session)
    vault = tmp_path / "vault"
    archive_of(vault, session).parent.mkdir(parents=True)
    before = row_counts()
    out = StringIO()

    with file_permissions_enforced(), umask(0o477), pytest.raises(CommandError) as refused:
        call_command("cleanup_sessions", "--older-than", "30", "--archive", str(vault), stdout=out)

    assert "0 sessions archived and deleted (0 trades)" in out.getvalue()
    assert "did not read back as written" in str(refused.value) and session.pk in str(refused.value)
    assert row_counts() == before
    assert Path(session.trades_file).exists() and Path(session.logs_file).exists()
    assert list(archive_of(vault, session).parent.iterdir()) == []


def test_files_a_row_names_outside_data_root_are_neither_archived_nor_deleted(
    make_session, data_root, tmp_path
):
    """logs_file / trades_file edited to point elsewhere (straight, through `..`, through a
    symlink under DATA_ROOT): the session is archived and deleted, the files are not ours and
    stay as they are, unread (no text of theirs in the archive)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    data_root.mkdir(parents=True)
    (data_root / "escape").symlink_to(outside)
    cases = {
        "straight": outside / "straight.txt",
        "dotdot": data_root / "logs" / ".." / ".." / "elsewhere" / "dotdot.txt",
        "symlink": data_root / "escape" / "symlink.txt",
    }
    sessions = {}
    for name, path in cases.items():
        (outside / f"{name}.txt").write_text(f"secret of {name}\n")
        (outside / f"{name}.json").write_text(f'{{"secret": "{name}"}}')
        session = finish(make_session)
        Session.objects.filter(pk=session.pk).update(
            logs_file=str(path), trades_file=str(path.with_suffix(".json"))
        )
        sessions[name] = session

    out = cleanup("--older-than", "30")

    assert "3 sessions archived and deleted (9 trades)" in out
    assert not Session.objects.filter(pk__in=[s.pk for s in sessions.values()]).exists()
    for name, session in sessions.items():
        assert (outside / f"{name}.txt").read_text() == f"secret of {name}\n"
        assert (outside / f"{name}.json").read_text() == f'{{"secret": "{name}"}}'
        content = gzip.decompress(archive_of(data_root / "cold", session).read_bytes())
        assert json.loads(content)["log"] is None and b"secret" not in content


def test_one_failure_does_not_stop_the_others(make_session, tmp_path, data_root):
    """The older session's month directory is taken by a file: it fails, the other goes."""
    blocked = finish(make_session, days_ago=400)
    fine = finish(make_session, days_ago=40)
    vault = tmp_path / "vault"
    month = archive_of(vault, blocked).parent
    month.parent.mkdir(parents=True)
    month.write_text("in the way")

    with pytest.raises(CommandError, match=blocked.pk):
        cleanup("--older-than", "30", "--archive", str(vault))

    assert Session.objects.filter(pk=blocked.pk).exists()
    assert not Session.objects.filter(pk=fine.pk).exists()
    assert archive_of(vault, fine).exists()


def _cleanup_blocked_on_the_log(session: Session) -> tuple[threading.Thread, dict, Path]:
    """Run the cleanup in a thread whose read of the session's log (a FIFO) waits for us: by
    then it has read the rows, so what we change now happens between its read and its delete."""
    fifo = Path(session.logs_file).with_suffix(".fifo")
    os.mkfifo(fifo)
    Session.objects.filter(pk=session.pk).update(logs_file=str(fifo))
    outcome = {}

    def run():
        try:
            outcome["result"] = services.sessions_cleanup(older_than_days=30)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    deadline = time.monotonic() + 30
    while True:  # opening the write end succeeds only once the reader is waiting on it
        try:
            writer = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
            break
        except OSError as exc:
            assert exc.errno == errno.ENXIO and time.monotonic() < deadline, exc
            time.sleep(0.02)
    outcome["writer"] = writer
    return thread, outcome, fifo


def _let_it_go(thread, outcome):
    os.write(outcome["writer"], b"the log\n")
    os.close(outcome["writer"])
    thread.join(timeout=30)
    assert not thread.is_alive()
    return outcome["result"]


@pytest.mark.django_db(transaction=True)
def test_a_session_changed_while_it_was_archived_is_left_alone(make_session, data_root):
    session = finish(make_session, queued=False)
    thread, outcome, fifo = _cleanup_blocked_on_the_log(session)

    services.session_update(session=session, data={"name": "renamed meanwhile"})
    result = _let_it_go(thread, outcome)

    assert result.sessions == 0 and [sid for sid, _ in result.skipped] == [session.pk]
    assert "changed" in result.skipped[0][1]
    assert Session.objects.get(pk=session.pk).name == "renamed meanwhile"
    assert Trade.objects.filter(run__session_id=session.pk).count() == 3
    assert not archive_of(data_root / "cold", session).exists()  # an archive of the old name: removed

    # The next cleanup takes it as it is now (its log a plain file again).
    Session.objects.filter(pk=session.pk).update(logs_file=str(fifo.with_suffix(".log")))
    rerun = services.sessions_cleanup(older_than_days=30)
    assert rerun.sessions == 1
    assert json.loads(gzip.decompress(rerun.files[0].read_bytes()))["session"]["name"] == "renamed meanwhile"


@pytest.mark.django_db(transaction=True)
def test_a_session_deleted_while_it_was_archived_is_reported_skipped(make_session, data_root):
    session = finish(make_session, queued=False)
    thread, outcome, _ = _cleanup_blocked_on_the_log(session)

    services.session_delete(session=session)
    result = _let_it_go(thread, outcome)

    assert result.sessions == 0 and result.skipped == [(session.pk, "deleted while it was being archived")]
    assert not archive_of(data_root / "cold", session).exists()
