"""The tables themselves keep the schema's ON DELETE rules (MariaDB): a row deleted in plain SQL
nulls its clones' cloned_from and takes its events, runs and trades with it."""

import pytest
from django.db import connection

from sessions_app import services
from sessions_app.models import Run, Session, SessionEvent

pytestmark = pytest.mark.django_db


def test_a_session_deleted_in_sql_nulls_clones_and_cascades(operator):
    if connection.vendor != "mysql":
        pytest.skip("SQLite keeps these rules in Django only (see migration 0003)")
    source = services.session_create(
        user=operator, data={"type": "test", "market": "XBTUSD", "strategy": "TestBot"}
    )
    clone = services.session_clone(session=source, user=operator)

    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sessions WHERE id = %s", [source.pk])

    clone.refresh_from_db()
    assert clone.cloned_from_id is None
    assert not SessionEvent.objects.filter(session_id=source.pk).exists()
    assert not Run.objects.filter(session_id=source.pk).exists()
    assert Session.objects.filter(pk=clone.pk).exists()
