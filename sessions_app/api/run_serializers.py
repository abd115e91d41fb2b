"""The answers of the runs-across-sessions endpoints (/api/runs, /api/runs/summary), for /api/schema/.

Beside `serializers.py` (at its size limit), from whose shapes they are made; like those, they
describe and do not validate.
"""

from __future__ import annotations

from rest_framework import serializers

from sessions_app.api.serializers import RunSerializer, SessionSummarySerializer


class RunListSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always true here.")
    runs = RunSerializer(many=True)
    next_cursor = serializers.CharField(
        allow_null=True,
        help_text="Pass as ?cursor= (with the same sort) for the next page; null on the last.",
    )
    limit = serializers.IntegerField()


class RunsSummaryAnswerSerializer(serializers.Serializer):
    success = serializers.BooleanField(help_text="Always true here.")
    summary = SessionSummarySerializer()
