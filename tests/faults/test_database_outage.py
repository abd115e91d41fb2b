"""The database killed for 20 s under a running live session: the API answers 503 in the JSON
envelope and the dashboard a 503 page meanwhile; the session runs on (trades, events and
heartbeats wait in the runner), the reaper does not fail it for the heartbeat the outage
delayed, and afterwards its trades equal a backtest of its window, none missing, none twice.

Everything runs on a MariaDB of the test's own (its own data directory and port): the web app
and the worker are processes of their own on it, as deployed."""

from __future__ import annotations

import json
import os
import time

import pytest
import requests

from tests.faults.parity import TRADE_FIELDS, assert_same_trades, backtest_trades
from tests.faults.servers import Api, MariaDB, Web, Worker, manage, operator_login, wait_until
from tests.faults.test_worker_faults import LIVE

pytestmark = [pytest.mark.worker]

OUTAGE_SECONDS = 20
DATABASE = "faults"


def test_a_live_session_runs_through_a_20_second_database_outage(tmp_path, measured):
    db = MariaDB(tmp_path / "mariadb")
    (tmp_path / "mariadb").mkdir(exist_ok=True)
    web = worker = None
    try:
        db.start()
        db.query(f"CREATE DATABASE {DATABASE} CHARACTER SET utf8mb4")
        env = {
            **os.environ,
            "DATABASE_URL": db.url(DATABASE),
            "VAR_DIR": str(tmp_path / "var"),
            "DATA_ROOT": str(tmp_path / "data"),
            "REDIS_URL": "",
            "CELERY_BROKER_URL": "filesystem://",
            "CELERY_BROKER_DIR": str(tmp_path / "broker"),
            "STALE_AFTER_SECONDS": "5",
            # As in production: an outage in a middleware (the session, the user) is a 503 page.
            "DEBUG": "false",
            "SECURE_SSL_REDIRECT": "false",
            "DJANGO_SETTINGS_MODULE": "config.settings",
        }
        manage(env, "migrate", "--noinput", "-v", "0")
        token, login = operator_login(env)
        web = Web(env, tmp_path / "web.log")
        worker = Worker(env, tmp_path / "worker.log", name="faults-db@%h")
        api = Api(web.url, token)

        status, body = api.call("POST", "/api/sessions", LIVE)
        assert status == 201, body
        session_id = body["session"]["id"]
        assert api.call("POST", f"/api/sessions/{session_id}/start")[0] == 200

        def session():
            status, body = api.call("GET", f"/api/sessions/{session_id}")
            return body["session"] if status == 200 else None

        running = wait_until(
            lambda: (s := session()) and s["worker"] and s["trade_count"] >= 2 and s,
            90,
            "trades on the worker",
        )
        worker_before = running["worker"]

        db.kill()
        down, down_wall = time.monotonic(), time.time()
        answers = 0
        while time.monotonic() - down < OUTAGE_SECONDS:
            status, body = api.call("GET", f"/api/sessions/{session_id}")
            assert status == 503, (status, body)
            assert body["success"] is False and "database" in body["error"]
            page = requests.get(
                f"{web.url}/", cookies={"sessionid": login}, timeout=30, allow_redirects=False
            )
            assert page.status_code == 503 and "database is unreachable" in page.text
            answers += 2
            time.sleep(1.0)
        assert worker.process.poll() is None  # the worker lives on

        up_wall = time.time()
        db.start()
        restarted = time.monotonic()
        # The runner's buffered writes land: the heartbeat moves and trades come in again.
        after = wait_until(
            lambda: (s := session()) and s["heartbeat_at"] and s["heartbeat_at"] > time.time() - 3 and s,
            60,
            "the runner's writes after the outage",
        )
        caught_up = time.monotonic() - restarted
        wait_until(
            lambda: (s := session()) and s["trade_count"] >= after["trade_count"] + 2,
            60,
            "trades after the outage",
        )
        now = session()
        # Not failed, not handed to another worker: the reaper forgave the late heartbeat.
        assert now["status"] == "running" and not now["error"] and now["worker"] == worker_before
        measured(
            f"Database down {OUTAGE_SECONDS} s: {answers} API/page answers all 503; the runner's buffered "
            f"writes landed {caught_up:.1f} s after MariaDB was back ({after['trade_count']} trades by then)"
        )

        assert api.call("POST", f"/api/sessions/{session_id}/stop")[0] == 200
        ended = wait_until(lambda: (s := session()) and s["status"] != "running" and s, 30, "the stop")
        assert ended["status"] == "stopped", ended["error"]
        events = [row[0] for row in db.query(
            f"SELECT event_type FROM session_events WHERE session_id = '{session_id}' ORDER BY id", DATABASE
        )]  # fmt: skip
        assert "resumed" not in events and "error" not in events
        checkpoint = json.loads(
            db.query(f"SELECT checkpoint FROM runs WHERE session_id = '{session_id}'", DATABASE)[0][0]
        )
        columns = ", ".join(f"t.{field}" for field in TRADE_FIELDS)
        stored = [
            dict(zip(TRADE_FIELDS, row, strict=True))
            for row in db.query(
                f"SELECT {columns} FROM trades t JOIN runs r ON r.id = t.run_id "
                f"WHERE r.session_id = '{session_id}' ORDER BY t.id",
                DATABASE,
            )
        ]
        assert events.count("trade") == len(stored)  # each trade told once
        # Trades made while the database was down were kept and written afterwards.
        during = [t for t in stored if down_wall + 1 < int(t["exit_time"]) < up_wall]
        assert during, "no trade closed during the outage: nothing was buffered"
        measured(f"Database down: {len(during)} trades closed during the outage, written once it was back")
        assert_same_trades(stored, backtest_trades(ended, checkpoint))
    finally:
        for part in (worker, web):
            if part is not None:
                part.close()
        db.close()
