"""manage.py restore_session: an archived session comes back whole, or not at all."""

from __future__ import annotations

import gzip
import json
import uuid
from decimal import Decimal
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from sessions_app import services
from sessions_app.errors import Conflict, InvalidInput
from sessions_app.models import Session
from sessions_app.services.trades import TRADE_COLUMNS
from tests.sessions.archive_helpers import finish, snapshot
from tests.worker_fixtures import session_ended, wait_for

DAY = 86_400
RANGE_START = 1_767_225_600  # 2026-01-01 00:00 UTC


@pytest.fixture(autouse=True)
def _room_for_sessions(session_limits, data_root):
    """Several test sessions at once; every file under a private DATA_ROOT."""


def restore(path: Path) -> str:
    out = StringIO()
    call_command("restore_session", str(path), stdout=out)
    return out.getvalue()


def archive(session_id: str, archive_dir: Path) -> Path:
    """cleanup_sessions' own export (everything finished up to now), for this one session."""
    result = services.sessions_cleanup(older_than_days=0, archive_dir=archive_dir)
    assert [a.session_id for a in result.archived] == [session_id], (result.skipped, result.failed)
    assert not Session.objects.filter(pk=session_id).exists()
    return result.files[0]


def assert_same(before: dict, after: dict) -> None:
    """Field by field: the session, every run, event and trade, and the log's bytes."""
    assert after["session"] == before["session"]
    assert len(after["runs"]) == len(before["runs"])
    for was, now in zip(before["runs"], after["runs"], strict=True):
        assert now == was
    assert len(after["events"]) == len(before["events"])
    for was, now in zip(before["events"], after["events"], strict=True):
        assert now == was
    assert len(after["trades"]) == len(before["trades"])
    for was, now in zip(before["trades"], after["trades"], strict=True):
        assert now == was
    assert after["log"] == before["log"]


def assert_trades_file_restored(before: dict, after: dict) -> None:
    """The regenerated trades file: the same runs and trades, its numbers those the table kept
    (the runner wrote the engine's floats; SQLite keeps 15 digits, MariaDB 10 places)."""
    was, now = json.loads(before["trades_file"]), json.loads(after["trades_file"])
    assert now["session_id"] == was["session_id"]
    assert [(r["config_hash"], r["params"]) for r in now["runs"]] == [
        (r["config_hash"], r["params"]) for r in was["runs"]
    ]
    kept = sorted(after["trades"], key=lambda t: (t["run_id"], t["id"]))
    written = [trade for run in now["runs"] for trade in run["trades"]]
    assert written == [
        {c: float(t[c]) if isinstance(t[c], Decimal) else t[c] for c in TRADE_COLUMNS[1:]} for t in kept
    ]
    engine = [trade for run in was["runs"] for trade in run["trades"]]
    for new, old in zip(written, engine, strict=True):
        assert new.keys() == old.keys()
        for key, value in old.items():
            if isinstance(value, float):
                assert new[key] == pytest.approx(value, rel=1e-12, abs=1e-10), key
            else:
                assert new[key] == value, key


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_backtest_sweep_run_by_the_worker_comes_back_whole(celery_worker, operator, tmp_path):
    session = services.session_create(
        user=operator,
        data={
            "type": "backtest",
            "market": "XBTUSD",
            "strategy": "SmaCross",
            "range_start": RANGE_START,
            "range_end": RANGE_START + DAY,
            "sweep": {"n1": [5, 10]},
            "notes": "Ünïcode ✓ notes",
        },
    )
    services.session_start(session=session)
    session = wait_for(lambda: session_ended(session.pk), timeout=60, message="the sweep to end")
    assert session.status == "completed", session.error
    before = snapshot(session.pk)
    assert len(before["runs"]) == 2 and len(before["trades"]) > 0 and before["log"]
    assert before["session"]["created_by_id"] == operator.pk

    path = archive(session.pk, tmp_path / "cold")
    assert not Path(before["session"]["logs_file"]).exists()
    assert not Path(before["session"]["trades_file"]).exists()
    out = restore(path)

    after = snapshot(session.pk)
    assert_same(before, after)
    assert_trades_file_restored(before, after)
    assert out.strip() == (
        f"Restored session {session.pk} ({session.name}): 2 runs, {len(before['trades'])} trades, "
        f"{len(before['events'])} events"
    )


def test_a_session_built_by_the_services_comes_back_whole(make_session, operator, tmp_path, data_root):
    source = finish(make_session, user=operator, trades=4, days_ago=1)
    session = finish(
        make_session,
        user=operator,
        status="failed",
        trades=6,
        log="fin\n\x00 bytes and ünïcode ✓\n",
        strategy_params={"threshold": 0.25},
        notes="multi\nline",
        notify_url="https://example.com/hook",
    )
    Session.objects.filter(pk=session.pk).update(cloned_from=source)
    Path(session.logs_file).write_bytes(b"not utf-8: \xff\xfe end\n")  # kept byte for byte
    before = snapshot(session.pk)

    restore(archive_path := _archive_only(session, tmp_path))
    assert archive_path.exists()

    assert_same(before, snapshot(session.pk))
    restored = Session.objects.get(pk=session.pk)
    assert restored.cloned_from_id == source.pk and restored.created_by_id == operator.pk
    assert Path(restored.trades_file) == data_root / "trades" / f"trades_{session.pk}.json"
    assert Path(restored.logs_file) == data_root / "logs" / f"session_{session.pk}.log"


def _archive_only(session: Session, tmp_path: Path) -> Path:
    """Archive (and delete) just this session: it is the only one old enough."""
    result = services.sessions_cleanup(older_than_days=30, archive_dir=tmp_path / "cold")
    assert [a.session_id for a in result.archived] == [session.pk], (result.skipped, result.failed)
    return result.files[0]


def test_a_clone_source_or_user_gone_meanwhile_becomes_none(make_session, operator, tmp_path):
    source = finish(make_session, days_ago=1)
    session = finish(make_session, user=operator)
    Session.objects.filter(pk=session.pk).update(cloned_from=source)
    path = _archive_only(session, tmp_path)
    services.session_delete(session=source)
    User.objects.filter(pk=operator.pk).delete()

    restored = services.session_restore(path=path)

    assert (restored.cloned_from_id, restored.created_by_id) == (None, None)
    assert restored.runs.get().trades.count() == 3


def test_a_session_without_log_or_trades_file_comes_back_without_them(make_session, tmp_path, data_root):
    session = finish(make_session, log=None)
    Session.objects.filter(pk=session.pk).update(trades_file=None)
    Path(data_root / "trades" / f"trades_{session.pk}.json").unlink()

    restored = services.session_restore(path=_archive_only(session, tmp_path))

    assert (restored.logs_file, restored.trades_file) == (None, None)
    assert not (data_root / "logs" / f"session_{session.pk}.log").exists()
    assert not (data_root / "trades" / f"trades_{session.pk}.json").exists()


def test_restoring_twice_is_refused_and_changes_nothing(make_session, tmp_path, row_counts):
    session = finish(make_session)
    path = _archive_only(session, tmp_path)
    restore(path)
    before, counts = snapshot(session.pk), row_counts()
    Path(before["session"]["logs_file"]).write_text("written after the restore\n")

    with pytest.raises(CommandError) as refused:
        restore(path)

    assert session.pk in str(refused.value) and "exists already" in str(refused.value)
    assert row_counts() == counts
    after = snapshot(session.pk)
    assert after["log"] == b"written after the restore\n"
    assert {**after, "log": None} == {**before, "log": None}
    with pytest.raises(Conflict):
        services.session_restore(path=path)


def _gzip_json(tmp_path: Path, document) -> Path:
    path = tmp_path / "crafted.json.gz"
    path.write_bytes(gzip.compress(json.dumps(document).encode()))
    return path


def _archive_document(make_session, tmp_path) -> tuple[dict, str]:
    session = finish(make_session)
    path = _archive_only(session, tmp_path)
    return json.loads(gzip.decompress(path.read_bytes())), session.pk


def _without(document: dict, key: str) -> dict:
    return {k: v for k, v in document.items() if k != key}


@pytest.mark.parametrize(
    ("make_file", "says"),
    [
        (lambda tmp, doc: (tmp / "garbage.json.gz", b"\x00\x01 not gzip at all"), "not a gzip file"),
        (lambda tmp, doc: (tmp / "text.json.gz", gzip.compress(b"{not json")), "not JSON"),
        (lambda tmp, doc: (tmp / "cut.json.gz", gzip.compress(json.dumps(doc).encode())[:-30]), "cut short"),
        (lambda tmp, doc: (tmp / "list.json.gz", [doc]), "not an object"),
        (
            lambda tmp, doc: (tmp / "other.json.gz", {**doc, "format": "something-else"}),
            "not a session archive",
        ),
        (lambda tmp, doc: (tmp / "future.json.gz", {**doc, "version": 2}), "version 2 is not supported"),
        (lambda tmp, doc: (tmp / "no-runs.json.gz", _without(doc, "runs")), "missing keys: runs"),
        (
            lambda tmp, doc: (tmp / "no-name.json.gz", {**doc, "session": _without(doc["session"], "name")}),
            "session is missing name",
        ),
        (
            lambda tmp, doc: (
                tmp / "bad-price.json.gz",
                {
                    **doc,
                    "trades": [[*doc["trades"][0][:5], "a lot", *doc["trades"][0][6:]], *doc["trades"][1:]],
                },
            ),
            "trades[0]",
        ),
        (
            lambda tmp, doc: (
                tmp / "short-row.json.gz",
                {**doc, "trades": [doc["trades"][0][:3], *doc["trades"][1:]]},
            ),
            "trades[0] is not a row",
        ),
        (
            lambda tmp, doc: (tmp / "lost-rows.json.gz", {**doc, "trades": doc["trades"][:1]}),
            "trade_count says 3, the file holds 1",
        ),
        (
            lambda tmp, doc: (
                tmp / "stray-trade.json.gz",
                {
                    **doc,
                    "trades": [[doc["trades"][0][0], 999_999, *doc["trades"][0][2:]], *doc["trades"][1:]],
                },
            ),
            "trades[0] belongs to run 999999",
        ),
        (
            lambda tmp, doc: (
                tmp / "bad-time.json.gz",
                {**doc, "session": {**doc["session"], "stopped_at": "last tuesday"}},
            ),
            "session.stopped_at",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_it_and_writes_nothing(
    make_file, says, make_session, tmp_path, row_counts, data_root
):
    document, session_id = _archive_document(make_session, tmp_path)
    path, content = make_file(tmp_path, document)
    path.write_bytes(content if isinstance(content, bytes) else gzip.compress(json.dumps(content).encode()))
    counts = row_counts()

    with pytest.raises(CommandError) as refused:
        restore(path)

    assert str(path) in str(refused.value) and says in str(refused.value), str(refused.value)
    assert "Traceback" not in str(refused.value)
    assert row_counts() == counts
    assert not (data_root / "logs" / f"session_{session_id}.log").exists()
    assert not (data_root / "trades" / f"trades_{session_id}.json").exists()
    with pytest.raises(InvalidInput):
        services.session_restore(path=path)


def test_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="no such file"):
        restore(tmp_path / "nowhere.json.gz")


@pytest.mark.parametrize("kind", ["traversal", "uuid-then-traversal", "absolute", "empty", "braced", "upper"])
def test_an_archive_whose_session_id_is_not_a_uuid_is_refused_and_writes_nothing(
    kind, make_session, tmp_path, row_counts, data_root
):
    """The id names the log and the trades file: `../../tmp/x/pwn` once wrote /tmp/x/pwn.log,
    left DATA_ROOT/logs/session_.. and a row no URL reaches. Now the whole file is refused."""
    document, _ = _archive_document(make_session, tmp_path)
    assert document["session"]["trades_file"] and document["log"]  # both files would be written
    target = tmp_path / "x" / "pwn"
    # As `session_<id>.log` / `trades_<id>.json`: up to / by `..`, then down to the target.
    up_to_target = "../" * 40 + str(target).lstrip("/")
    real = str(uuid.uuid4())
    bad_id = {
        "traversal": up_to_target,
        "uuid-then-traversal": f"{real}/../{up_to_target}",
        "absolute": str(target),
        "empty": "",
        "braced": "{" + real + "}",
        "upper": real.upper(),
    }[kind]
    document["session"]["id"] = bad_id
    for row in (*document["runs"], *document["events"]):
        row["session_id"] = bad_id
    path = _gzip_json(tmp_path, document)
    counts = row_counts()
    data_before = sorted(data_root.rglob("*"))

    with pytest.raises(CommandError) as refused:
        restore(path)
    with pytest.raises(InvalidInput) as refused_by_the_service:
        services.session_restore(path=path)

    for message in (str(refused.value), refused_by_the_service.value.message):
        assert str(path) in message and "session.id must be a UUID" in message, message
    assert row_counts() == counts
    assert not Session.objects.filter(pk=bad_id).exists()
    assert not target.parent.exists()  # neither x/pwn.log nor x/pwn.json
    assert sorted(data_root.rglob("*")) == data_before  # no stray logs/session_.. or trades file
    assert [p for p in data_root.rglob("*") if p.is_file()] == []


def test_an_archive_whose_run_id_is_not_a_number_is_refused(make_session, tmp_path, row_counts):
    document, _ = _archive_document(make_session, tmp_path)
    document["runs"][0]["id"] = "../../x"
    path = _gzip_json(tmp_path, document)
    counts = row_counts()

    with pytest.raises(CommandError, match=r"runs\[0\]\.id"):
        restore(path)

    assert row_counts() == counts
