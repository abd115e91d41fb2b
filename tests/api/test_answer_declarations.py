"""Each API answer is declared once: the shapes the dicts are built from make the schema's
serializers, an answer cannot hold keys its declaration lacks, and no API module queries the ORM.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bots.metrics import compute_metrics
from sessions_app.api.serializers import serializer_for
from sessions_app.api.sessions import SessionDeletedSerializer
from sessions_app.api.views import AnswerShapeError, answer
from sessions_app.representations import ENGINE_METRICS, METRICS, Field, Shape
from tests.test_views_orm_free import orm_uses

# Every module of the API but its routes (`runs.runs` names a view, not a related manager).
API_MODULES = sorted(
    path
    for path in (Path(__file__).resolve().parents[2] / "sessions_app" / "api").glob("*.py")
    if not path.name.endswith("urls.py")
)


def test_an_answer_with_a_key_its_declaration_lacks_is_refused():
    with pytest.raises(AnswerShapeError, match=r"\['extra'\] more"):
        answer(SessionDeletedSerializer, deleted="s-1", extra=True)


def test_an_answer_without_a_declared_key_is_refused():
    with pytest.raises(AnswerShapeError, match=r"\['deleted'\] fewer"):
        answer(SessionDeletedSerializer)


def test_an_answer_as_declared_is_the_envelope():
    assert answer(SessionDeletedSerializer, deleted="s-1").data == {"success": True, "deleted": "s-1"}


def test_a_shape_builds_its_fields_in_order_and_its_serializer_describes_them():
    class Row:
        id, price, secret = 7, "1.50", "not answered"

    shape = Shape(
        "TestRow",
        "A row.",
        (
            Field("id", int),
            Field("price", float, nullable=True, convert=float),
            Field("label", str, compute=lambda row: f"row {row.id}"),
            Field("extra", dict, given=True),
        ),
    )

    built = shape.build(Row(), extra={"a": 1})

    assert list(built.items()) == [("id", 7), ("price", 1.5), ("label", "row 7"), ("extra", {"a": 1})]
    assert shape.build(Row())["extra"] is None
    fields = serializer_for(shape)().fields
    assert list(fields) == ["id", "price", "label", "extra"]
    assert fields["price"].allow_null and not fields["id"].allow_null
    assert serializer_for(shape)(built).data == built


def test_every_metric_the_engine_computes_is_described_and_the_undefined_ones_are_nullable():
    times = np.arange(0, 86_400, 3600)
    metrics = compute_metrics(
        trades=[],
        times=times,
        equity=np.ones(len(times)),
        initial_balance=1.0,
        currency="XBT",
        fees_paid=0.0,
        exposed_candles=0,
        candles=len(times),
    )
    described = {field.name: field for field in ENGINE_METRICS.fields}

    assert set(metrics) <= set(described)
    undefined = {name for name, value in metrics.items() if value is None}
    assert undefined == {"sharpe", "sortino", "calmar", "profit_factor"}
    assert all(described[name].nullable for name in undefined)
    answered = {field.name: field for field in METRICS.fields}
    assert answered["sharpe"].nullable and answered["profit_factor"].nullable
    assert not answered["sharpe"].optional and answered["profit_factor"].optional


@pytest.mark.parametrize("path", API_MODULES, ids=lambda p: p.name)
def test_the_api_module_does_not_query_the_orm(path):
    assert orm_uses(path.read_text()) == []
