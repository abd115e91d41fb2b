"""`q` through the full-text index (InnoDB FULLTEXT on MariaDB, FTS5 + triggers on SQLite).

Rows written by any path are found: the services, the ORM as the admin writes, bulk loads and
raw SQL as imports and restores write; renamed and deleted rows follow. Committed rows only:
InnoDB's full-text index sees a row once its transaction commits, hence transaction=True.
"""

from __future__ import annotations

import uuid

import pytest
from django.db import connection

from sessions_app import selectors, services
from sessions_app.fulltext import fulltext_ensure
from sessions_app.models import Session

pytestmark = pytest.mark.django_db(transaction=True)


def found(q: str, **filters) -> list[str]:
    rows = selectors.session_filter(filters=selectors.SessionFilters(q=q, **filters))
    return sorted(rows.values_list("name", flat=True))


def bulk(*names: str, notes: str | None = None) -> None:
    Session.objects.bulk_create(
        [
            Session(
                id=str(uuid.uuid4()), name=name, notes=notes, type="test", market="XBTUSD", strategy="TestBot"
            )
            for name in names
        ]
    )


def test_words_and_word_starts_match_in_any_case_in_name_or_notes():
    bulk("Momentum hunt", "Mean reversion")
    bulk("Plain", notes="Trying MOMENTUM params for the BTC run")

    assert found("momentum") == ["Momentum hunt", "Plain"]
    assert found("MOM") == ["Momentum hunt", "Plain"]
    assert found("momentum hunt") == ["Momentum hunt"]  # every word must match
    assert found("rev") == ["Mean reversion"]
    assert found("btc for the") == ["Plain"]  # short and common words are words too
    assert found("entum") == []  # words and their starts, not any substring
    assert found("zebra") == []


def test_numbers_in_generated_names_are_words():
    bulk("BTC Test #3", "BTC Test #12", "BTC Test #123")

    assert found("#12") == ["BTC Test #12", "BTC Test #123"]
    assert found("3") == ["BTC Test #3"]
    assert found("test 123") == ["BTC Test #123"]


def test_rows_of_every_path_are_found_and_changes_follow(operator):
    made = services.session_create(
        user=operator,
        data={"type": "test", "market": "XBTUSD", "strategy": "TestBot", "name": "Service alpha"},
    )
    Session.objects.create(name="Admin alpha", type="test", market="XBTUSD", strategy="TestBot")
    bulk("Bulk alpha")
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO sessions (id, name, type, market, exchange, strategy, timeframe, fee_bps, "
            "slippage_bps, status, stop_requested, progress_done, sharpe, reuse) "
            "VALUES (%s, 'Raw alpha', 'test', 'XBTUSD', 'sim', 'TestBot', '1m', 7.5, 0, 'created', "
            "FALSE, 0, 0, TRUE)",
            [str(uuid.uuid4())],
        )

    assert found("alpha") == ["Admin alpha", "Bulk alpha", "Raw alpha", "Service alpha"]

    services.session_update(session=made, data={"name": "Service beta"})
    Session.objects.filter(name="Bulk alpha").update(name="Bulk gamma")
    Session.objects.filter(name="Raw alpha").delete()

    assert found("alpha") == ["Admin alpha"]
    assert found("beta") == ["Service beta"]
    assert found("gamma") == ["Bulk gamma"]


def test_q_goes_with_the_other_filters_and_its_total_is_exact(viewer_api):
    bulk(*(f"Needle {i}" for i in range(30)))
    bulk(*(f"Hay {i}" for i in range(30)))
    Session.objects.filter(name__in=["Needle 1", "Needle 2"]).update(market="ETHUSD")

    body = viewer_api.get("/api/sessions", {"q": "needle", "limit": 10}).json()

    assert body["total"] == 30 and len(body["sessions"]) == 10
    assert found("needle", markets=("ETHUSD",)) == ["Needle 1", "Needle 2"]


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's triggers; InnoDB keeps its own index")
def test_a_table_rebuild_that_lost_the_triggers_is_repaired_after_migrate():
    bulk("Before rebuild")
    with connection.cursor() as cursor:
        # What a table rebuild by a later migration leaves: triggers gone, rows renumbered.
        for trigger in ("sessions_fts_insert", "sessions_fts_delete", "sessions_fts_update"):
            cursor.execute(f"DROP TRIGGER {trigger}")
        cursor.execute("DELETE FROM sessions_fts")
    bulk("After rebuild")

    assert fulltext_ensure(connection) is True
    assert found("rebuild") == ["After rebuild", "Before rebuild"]
    assert fulltext_ensure(connection) is False
