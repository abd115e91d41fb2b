"""Funding: a perpetual market's funding rates over a range (sim's computed, others' downloaded).

Top to bottom: the query parameters, the answer, the view.
"""

from __future__ import annotations

import time

from rest_framework import serializers

from sessions_app.api import params
from sessions_app.api.params import Query
from sessions_app.api.serializers import json_field, success
from sessions_app.api.views import REFERENCE, Operation, answer, endpoint
from sessions_app.errors import InvalidInput
from sessions_app.representations import EXCHANGE_CHOICES
from sessions_app.selectors.funding import funding_rates

DAY = 86_400
DEFAULT_DAYS = 30
# Ten years: some 11,000 rates at 8 h, 88,000 at 1 h; a wider window is a 400, not a long answer.
MAX_DAYS = 3660

# --- query --------------------------------------------------------------------------------------

FUNDING_QUERY = Query(
    params.text("exchange", "The market's exchange.", enum=EXCHANGE_CHOICES, required=True),
    params.text("market", "The market's symbol (XBTUSD).", required=True),
    params.unix("from", f"Range start (Unix seconds); default {DEFAULT_DAYS} days before to."),
    params.unix(
        "to", f"Range end, exclusive (Unix seconds, after from, at most {MAX_DAYS:,} days); default now."
    ),
    missing="Required.",
)


def funding_range(raw) -> dict:
    """The query's exchange, market and [from, to), checked: a 400 names the field at fault."""
    values = FUNDING_QUERY.parse(raw)
    if values["exchange"] not in EXCHANGE_CHOICES:
        raise InvalidInput.from_errors(
            {"exchange": [f"Unknown exchange {values['exchange']!r}; one of {', '.join(EXCHANGE_CHOICES)}."]}
        )
    end = values["to"] if values["to"] is not None else int(time.time())
    start = values["from"] if values["from"] is not None else max(0, end - DEFAULT_DAYS * DAY)
    if end <= start:
        raise InvalidInput.from_errors({"to": [f"Must be after from ({start})."]})
    if end - start > MAX_DAYS * DAY:
        raise InvalidInput.from_errors({"to": [f"At most {MAX_DAYS:,} days after from ({start})."]})
    return {"exchange": values["exchange"], "market": values["market"], "start": start, "end": end}


# --- answer -------------------------------------------------------------------------------------

RATES = {
    "type": "array",
    "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "description": "[[Unix seconds, rate], ...] by time; 0.0001 is 0.01 % of the position's value, "
    "paid by longs when positive. Empty for a market that is no perpetual or never downloaded.",
}
RatesField = json_field("FundingRatesField", RATES)


class FundingAnswerSerializer(serializers.Serializer):
    success = success(True)
    rates = RatesField()


# --- view ---------------------------------------------------------------------------------------


@endpoint(
    get=Operation(
        "Funding rates of a market", REFERENCE, {200: FundingAnswerSerializer}, (400,), query=FUNDING_QUERY
    )
)
def funding(request):
    """A market's funding rates with time in [from, to): sim's computed, others' downloaded."""
    rates = funding_rates(**funding_range(request.query_params))
    return answer(FundingAnswerSerializer, rates=rates.pairs())
