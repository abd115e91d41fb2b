"""trades_insert's fast paths (SQLite: multi-row INSERTs on the sqlite3 cursor; MariaDB:
values written by the service) store every value as the driver's executemany does."""

from decimal import Decimal

import pytest
from django.db import connection

from sessions_app.models import Trade
from sessions_app.services import trades as service
from sessions_app.services.trades import TRADE_COLUMNS, trades_insert

pytestmark = pytest.mark.django_db(transaction=True)

T0 = 1_735_689_600
# Floats that print in every way repr has: plain, exponent, integral, tiny, huge, negative zero.
FLOATS = [60000.123456789, 1e-05, 123.0, 0.1 + 0.2, 1.7e-6, 2.5e12, -0.0, -42.000000000049995, 3.0]


def _rows(run_id: int, count: int) -> list[tuple]:
    rows = []
    for i in range(count):
        x = FLOATS[i % len(FLOATS)]
        closed = i % 4 != 3  # every fourth trade still open: NULL exit
        rows.append(
            (
                run_id,
                "O'X\\" if i == 5 else ("XBTUSD", "ETHUSD")[i % 2],  # quoted by the connection
                ("long", "short")[i % 2],
                T0 + 60 * i,
                x,
                float(i + 1),
                T0 + 60 * i + 30 if closed else None,
                x * 1.0001 if closed else None,
                float(i + 1) if closed else None,
                -x / 7,
                abs(x) / 1000,
                "liquidation" if i == 7 else ("signal", "end")[i % 2],
                x / 3,
            )
        )
    return rows


def _stored(run_id: int) -> list[tuple]:
    return list(
        Trade.objects.filter(run_id=run_id).order_by("entry_time", "id").values_list(*TRADE_COLUMNS[1:])
    )


def test_the_fast_path_stores_what_executemany_stores(make_session):
    session = make_session(type="backtest", sweep={"threshold": [0.2, 0.4]})
    fast, reference = session.runs.order_by("id")
    count = 2 * max(service.SQLITE_ROWS_PER_INSERT, service.MYSQL_ROWS_PER_INSERT) + 7  # full and partial
    executemany = service._executemany
    with connection.cursor() as cursor:
        executemany(cursor, _rows(reference.pk, count))
    many = []

    def watch(execute, sql, params, many_, context):  # what reached the database as executemany
        if many_:
            many.append(sql)
        return execute(sql, params, many_, context)

    with connection.execute_wrapper(watch):
        trades_insert(_rows(fast.pk, count))

    assert many == []  # every row went by the fast path, none through the driver's executemany

    stored = _stored(fast.pk)
    assert len(stored) == count
    assert stored == _stored(reference.pk)
    assert stored[5][0] == "O'X\\"
    assert stored[3][5:8] == (None, None, None)


def test_rows_of_another_shape_still_go_in(make_session):
    """A Decimal (a restore's or an import's value) is not the plain shape: the driver takes it."""
    session = make_session(type="backtest")
    run = session.runs.get()
    rows = _rows(run.pk, 3)
    rows[1] = (*rows[1][:4], Decimal("61000.5"), *rows[1][5:])

    trades_insert(rows)

    stored = _stored(run.pk)
    assert len(stored) == 3 and stored[1][3] == Decimal("61000.5")


def test_a_float_that_is_not_finite_is_refused():
    with pytest.raises(ValueError):
        service._double(float("nan"))
    with pytest.raises(TypeError):
        service._double(Decimal("1.5"))
