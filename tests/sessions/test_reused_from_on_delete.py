"""A run copied from another keeps living when its source goes: `reused_from` becomes null,
through Django and (MariaDB) through the table itself."""

import pytest
from django.db import connection

from sessions_app import services
from sessions_app.models import Run

pytestmark = pytest.mark.django_db

BODY = {"type": "test", "market": "XBTUSD", "strategy": "TestBot"}


def _copy(operator):
    source = services.session_create(user=operator, data=BODY)
    copy = services.session_create(user=operator, data=BODY)
    Run.objects.filter(session=copy).update(reused_from=Run.objects.get(session=source))
    return source, Run.objects.get(session=copy)


def test_deleting_the_source_session_nulls_reused_from(operator):
    source, run = _copy(operator)
    services.session_delete(session=source)
    run.refresh_from_db()
    assert run.reused_from_id is None


def test_a_source_deleted_in_sql_nulls_reused_from(operator):
    if connection.vendor != "mysql":
        pytest.skip("SQLite keeps this rule in Django only (see migration 0005)")
    source, run = _copy(operator)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM sessions WHERE id = %s", [source.pk])
    run.refresh_from_db()
    assert run.reused_from_id is None
