"""Strategies: the list (optionally of those that run a session type) and one strategy."""

from __future__ import annotations

from rest_framework import serializers

from sessions_app import selectors
from sessions_app.api import params
from sessions_app.api.params import Query
from sessions_app.api.serializers import serializer_for, success
from sessions_app.api.views import REFERENCE, Operation, answer, endpoint
from sessions_app.representations import SESSION_TYPES, STRATEGY, strategy_data

LIST_QUERY = Query(params.text("type", "Only those that run this type.", enum=SESSION_TYPES))

StrategySerializer = serializer_for(STRATEGY)


class StrategyListSerializer(serializers.Serializer):
    success = success(True)
    strategies = StrategySerializer(many=True)
    total = serializers.IntegerField()


class StrategyAnswerSerializer(serializers.Serializer):
    success = success(True)
    strategy = StrategySerializer()


@endpoint(get=Operation("List strategies", REFERENCE, {200: StrategyListSerializer}, query=LIST_QUERY))
def strategies(request):
    items = selectors.strategy_list(session_type=LIST_QUERY.parse(request.query_params)["type"])
    return answer(StrategyListSerializer, strategies=[strategy_data(s) for s in items], total=len(items))


@endpoint(get=Operation("A strategy", REFERENCE, {200: StrategyAnswerSerializer}, (404,)))
def strategy_detail(request, strategy_id: str):
    return answer(
        StrategyAnswerSerializer, strategy=strategy_data(selectors.strategy_get(strategy_id=strategy_id))
    )
