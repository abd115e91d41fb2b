"""Markets: the active markets, optionally of one exchange."""

from __future__ import annotations

from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api import params
from sessions_app.api.params import Query
from sessions_app.api.serializers import serializer_for, success
from sessions_app.api.views import REFERENCE, Operation, answer, endpoint
from sessions_app.representations import EXCHANGE_CHOICES, MARKET, market_data

LIST_QUERY = Query(params.text("exchange", "Only this exchange.", enum=EXCHANGE_CHOICES))


class MarketListSerializer(serializers.Serializer):
    success = success(True)
    markets = serializer_for(MARKET)(many=True)
    total = serializers.IntegerField()


@endpoint(get=Operation("List active markets", REFERENCE, {200: MarketListSerializer}, query=LIST_QUERY))
def markets(request):
    items = selectors.market_list(exchange=LIST_QUERY.parse(request.query_params)["exchange"])
    return answer(MarketListSerializer, markets=[market_data(m) for m in items], total=len(items))
