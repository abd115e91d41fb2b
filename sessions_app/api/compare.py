"""Compare: 2 to 8 runs of any sessions side by side, with their equity curves.

Top to bottom: the query parameter, the answer, the view.
"""

from __future__ import annotations

from rest_framework import serializers

from sessions_app import query, selectors
from sessions_app.api.params import Param, Query
from sessions_app.api.runs import RunSerializer
from sessions_app.api.serializers import json_field, serializer_for, success
from sessions_app.api.session_data import EQUITY_CURVE
from sessions_app.api.views import DATA, Operation, answer, endpoint
from sessions_app.representations import RUN_SESSION, run_data, run_session_data

# --- query --------------------------------------------------------------------------------------

COMPARE_QUERY = Query(
    Param(
        "runs",
        {
            "type": "array",
            "items": {"type": "integer"},
            "minItems": query.COMPARE_MIN,
            "maxItems": query.COMPARE_MAX,
        },
        "Comma list of 2 to 8 distinct run ids, from any sessions.",
        lambda raw: query.compare_ids(raw.get("runs"), "runs", whole_numbers=True),
        required=True,
        comma_list=True,
    )
)

# --- answer -------------------------------------------------------------------------------------


class ComparedRunSerializer(RunSerializer):
    session = serializer_for(RUN_SESSION)()


EquityByRunField = json_field(
    "EquityByRunField",
    {"type": "object", "additionalProperties": EQUITY_CURVE, "description": "Run id -> its equity curve."},
)


class CompareAnswerSerializer(serializers.Serializer):
    success = success(True)
    runs = ComparedRunSerializer(many=True, help_text="In the order asked.")
    equity = EquityByRunField()


# --- view ---------------------------------------------------------------------------------------


@endpoint(
    get=Operation("Compare runs", DATA, {200: CompareAnswerSerializer}, (400, 404), query=COMPARE_QUERY)
)
def compare(request):
    """2 to 8 runs of any sessions side by side, in the order asked, with their equity curves."""
    compared = selectors.compare_runs(run_ids=COMPARE_QUERY.parse(request.query_params)["runs"])
    return answer(
        CompareAnswerSerializer,
        runs=[{**run_data(c.run), "session": run_session_data(c.session)} for c in compared],
        equity={str(c.run.pk): c.equity for c in compared},
    )
