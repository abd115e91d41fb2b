"""What the API's bodies and answers look like, field by field, for /api/schema/.

These serializers describe; they do not validate. The views hand the raw body to the services,
which check every field at once and word the messages (a serializer in front of them would
answer first, with other messages). The answers are the plain dicts of
`sessions_app.representations`; each serializer here names the same keys, with their types,
nullability and enums, and could shape the same dict (`SessionSerializer(data).data`).
"""

from __future__ import annotations

from django.conf import settings
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from bots.candles import TIMEFRAMES
from sessions_app.models import SessionEvent, SessionType, Status, Trade
from strategies_app.models import Market

SESSION_TYPES = SessionType.values
STATUSES = Status.values
TIMEFRAME_CHOICES = list(TIMEFRAMES)
EXCHANGE_CHOICES = list(settings.EXCHANGES)
UNIX = "Unix seconds"


def _nullable_unix(help_text: str) -> serializers.IntegerField:
    return serializers.IntegerField(
        allow_null=True, help_text=f"{help_text} ({UNIX}); null until it happens."
    )


def _success(value: bool) -> serializers.BooleanField:
    # A plain boolean: an enum of one would become a component of its own for each value.
    return serializers.BooleanField(help_text=f"Always {str(value).lower()} here.")


@extend_schema_field({"type": "object", "additionalProperties": True})
class ObjectField(serializers.JSONField):
    """A free-form JSON object (strategy params, metrics, a JSON schema)."""


@extend_schema_field({"type": "object", "additionalProperties": True, "nullable": True})
class NullableObjectField(serializers.JSONField):
    """A free-form JSON object, or null."""


@extend_schema_field(
    {
        "type": "object",
        "nullable": True,
        "additionalProperties": {"type": "array", "minItems": 1, "items": {}},
        "description": "A backtest sweep: parameter name -> non-empty list of values; each "
        "combination is one run. Null when the session does not sweep.",
    }
)
class SweepField(serializers.JSONField):
    pass


EQUITY_CURVE = {
    "type": "array",
    "items": {"type": "array", "items": {"type": "number"}, "minItems": 2, "maxItems": 2},
    "description": "[[Unix seconds, equity], ...], downsampled to about 2,000 points.",
}


@extend_schema_field(EQUITY_CURVE)
class EquityField(serializers.JSONField):
    pass


# --- the objects --------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    """Live progress: from the runner's cache while it runs, else from the last checkpoint."""

    done = serializers.IntegerField(help_text="Candles (or ticks) processed so far.")
    total = serializers.IntegerField(allow_null=True, help_text="Candles to process; null when open-ended.")
    percent = serializers.FloatField(
        allow_null=True, help_text="done / total in percent; null without a total."
    )
    trade_count = serializers.IntegerField()
    total_pnl = serializers.FloatField()
    win_rate = serializers.FloatField()
    currency = serializers.CharField(
        allow_null=True, help_text="Known while running; null from a checkpoint."
    )
    metrics = ObjectField(required=False, help_text="The runner's live metrics (while running only).")
    updated_at = serializers.FloatField(required=False, help_text=f"When the runner wrote this ({UNIX}).")


class SessionSummarySerializer(serializers.Serializer):
    """Seed 2's SessionSummary of the session's runs, as they are now (current while it runs)."""

    run_count = serializers.IntegerField()
    completed_runs = serializers.IntegerField()
    error_count = serializers.IntegerField(help_text="Failed runs.")
    best_profit = serializers.FloatField(allow_null=True, help_text="Highest total_pnl of a completed run.")
    best_config_hash = serializers.CharField(allow_null=True)
    avg_profit = serializers.FloatField(allow_null=True, help_text="Mean total_pnl of the completed runs.")
    last_config_hash = serializers.CharField(allow_null=True, help_text="Last run finished or started.")
    current_profit = serializers.FloatField(allow_null=True, help_text="The running (or last) run's.")
    active = serializers.BooleanField(help_text="The session is running.")


class SessionSerializer(serializers.Serializer):
    """A session: every column, times as Unix seconds, decimals as numbers, and its progress."""

    id = serializers.CharField(help_text="UUID.")
    name = serializers.CharField(allow_null=True)
    type = serializers.ChoiceField(choices=SESSION_TYPES)
    market = serializers.CharField(help_text="A symbol such as XBTUSD, or a pair such as XBTUSD+ETHUSD.")
    exchange = serializers.ChoiceField(choices=EXCHANGE_CHOICES)
    strategy = serializers.CharField(help_text="A strategy id (GET /api/strategies).")
    strategy_params = NullableObjectField()
    timeframe = serializers.ChoiceField(choices=TIMEFRAME_CHOICES)
    initial_balance = serializers.FloatField(allow_null=True)
    fee_bps = serializers.FloatField()
    slippage_bps = serializers.FloatField()
    sweep = SweepField()
    reuse = serializers.BooleanField(help_text="Identical completed runs are copied, not computed again.")
    range_start = serializers.IntegerField(allow_null=True, help_text=f"Backtests only ({UNIX}).")
    range_end = serializers.IntegerField(allow_null=True, help_text=f"Backtests only ({UNIX}).")
    status = serializers.ChoiceField(choices=STATUSES)
    waiting_for_worker = serializers.BooleanField(help_text="Running, but no worker has claimed it yet.")
    stop_requested = serializers.BooleanField()
    pid = serializers.IntegerField(allow_null=True)
    worker = serializers.CharField(allow_null=True, help_text="host:pid of the worker running it.")
    heartbeat_at = _nullable_unix("The worker's last sign of life")
    error = serializers.CharField(allow_null=True)
    created_at = serializers.IntegerField(allow_null=True, help_text=UNIX)
    started_at = _nullable_unix("Start")
    stopped_at = _nullable_unix("End")
    created_by = serializers.CharField(allow_null=True, help_text="Username.")
    trade_count = serializers.IntegerField()
    total_pnl = serializers.FloatField()
    win_rate = serializers.FloatField()
    max_drawdown = serializers.FloatField()
    sharpe = serializers.FloatField()
    progress_done = serializers.IntegerField()
    progress_total = serializers.IntegerField(allow_null=True)
    progress = ProgressSerializer()
    summary = SessionSummarySerializer()
    trades_file = serializers.CharField(allow_null=True)
    logs_file = serializers.CharField(allow_null=True)
    cloned_from = serializers.CharField(
        allow_null=True, help_text="The id of the session this was cloned from."
    )
    notes = serializers.CharField(allow_null=True)
    notify_url = serializers.CharField(allow_null=True)


class RunSerializer(serializers.Serializer):
    """One parameter set of a session (a sweep has many), keyed by its config hash."""

    id = serializers.IntegerField()
    session_id = serializers.CharField()
    config_hash = serializers.CharField()
    params = ObjectField()
    status = serializers.ChoiceField(choices=STATUSES)
    error = serializers.CharField(allow_null=True)
    started_at = _nullable_unix("Start")
    stopped_at = _nullable_unix("End")
    worker = serializers.CharField(allow_null=True, help_text="Who computed it: node:pid.")
    pid = serializers.IntegerField(allow_null=True)
    data_fingerprint = serializers.CharField(allow_null=True, help_text="Hash of the candles it read.")
    reused_from = serializers.IntegerField(allow_null=True, help_text="The completed run it copied.")
    trade_count = serializers.IntegerField()
    total_pnl = serializers.FloatField()
    win_rate = serializers.FloatField()
    max_drawdown = serializers.FloatField()
    sharpe = serializers.FloatField()
    metrics = ObjectField(help_text="Every metric the engine computes (profit_factor, fees_paid, ...).")


class TradeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    market = serializers.CharField()
    side = serializers.ChoiceField(choices=Trade.Side.values)
    entry_time = serializers.IntegerField(help_text=UNIX)
    entry_price = serializers.FloatField()
    entry_size = serializers.FloatField()
    exit_time = _nullable_unix("Exit")
    exit_price = serializers.FloatField(allow_null=True)
    exit_size = serializers.FloatField(allow_null=True)
    realized_pnl = serializers.FloatField()
    fee = serializers.FloatField()


class EventSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    event_type = serializers.ChoiceField(choices=SessionEvent.EventType.values)
    event_data = NullableObjectField()
    created_at = serializers.IntegerField(allow_null=True, help_text=UNIX)


class StrategySerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    description = serializers.CharField(allow_null=True)
    supported_types = serializers.ListField(child=serializers.ChoiceField(choices=SESSION_TYPES))
    supported_markets = serializers.ListField(child=serializers.CharField())
    default_params = ObjectField()
    param_schema = ObjectField(help_text="The JSON Schema strategy_params are checked against.")
    created_at = serializers.IntegerField(allow_null=True, help_text=UNIX)


class MarketSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    exchange = serializers.CharField()
    symbol = serializers.CharField()
    base = serializers.CharField()
    quote = serializers.CharField()
    settle = serializers.CharField(help_text="The currency PnL is counted in.")
    contract_type = serializers.ChoiceField(choices=Market.ContractType.values)
    tick_size = serializers.FloatField()
    multiplier = serializers.FloatField(
        help_text="Quanto: settle-currency units per point of price per contract; 1 otherwise."
    )
    active = serializers.BooleanField()


class MetricsSerializer(serializers.Serializer):
    """The headline figures; every other metric of the run comes along under its own name."""

    trade_count = serializers.IntegerField()
    total_pnl = serializers.FloatField()
    win_rate = serializers.FloatField()
    max_drawdown = serializers.FloatField()
    sharpe = serializers.FloatField()
    currency = serializers.CharField()
    initial_balance = serializers.FloatField()


# --- request bodies -----------------------------------------------------------------------------


def _text(max_length: int, help_text: str = "") -> serializers.CharField:
    return serializers.CharField(
        required=False, allow_null=True, allow_blank=True, max_length=max_length, help_text=help_text
    )


class SessionUpdateSerializer(serializers.Serializer):
    """Name, notes and notify_url always; the configuration only while the session is created."""

    type = serializers.ChoiceField(choices=SESSION_TYPES, required=False)
    market = serializers.CharField(
        required=False, help_text="An active market of `exchange`, or legs joined by +."
    )
    strategy = serializers.CharField(
        required=False, help_text="A strategy id; a new one drops the old params."
    )
    exchange = serializers.ChoiceField(
        choices=EXCHANGE_CHOICES, required=False, allow_null=True, help_text="Default: the server's."
    )
    strategy_params = NullableObjectField(required=False, help_text="Default: the strategy's defaults.")
    timeframe = serializers.ChoiceField(
        choices=TIMEFRAME_CHOICES, required=False, allow_null=True, help_text="Default 1m."
    )
    initial_balance = serializers.FloatField(
        required=False, allow_null=True, help_text="Greater than 0; default 1 (XBT/BTC settled) or 10000."
    )
    fee_bps = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1000; default 7.5.")
    slippage_bps = serializers.FloatField(required=False, allow_null=True, help_text="0 to 1000; default 0.")
    range_start = serializers.IntegerField(
        required=False, allow_null=True, min_value=0, help_text=f"Required for a backtest ({UNIX})."
    )
    range_end = serializers.IntegerField(
        required=False,
        allow_null=True,
        min_value=0,
        help_text=f"Required for a backtest ({UNIX}); after range_start, not in the future.",
    )
    sweep = SweepField(required=False)
    reuse = serializers.BooleanField(
        required=False, allow_null=True, help_text="Default true: copy identical completed runs."
    )
    name = _text(255, 'Generated ("BTC Test #3") when missing.')
    notes = _text(10_000)
    notify_url = _text(500, "Where to POST when the session ends; http or https.")


class SessionCreateSerializer(SessionUpdateSerializer):
    """A new session: type, market and strategy; everything else has a default."""

    # Redeclared as required; they keep their place at the top.
    type = serializers.ChoiceField(choices=SESSION_TYPES)
    market = serializers.CharField(help_text="An active market of `exchange`, or legs joined by +.")
    strategy = serializers.CharField(help_text="A strategy id that runs `type` sessions.")


class SessionCloneSerializer(serializers.Serializer):
    name = _text(255, 'Default: "Clone of <name>".')
    notes = _text(10_000, "Default: the source's.")
    notify_url = _text(500, "Default: the source's.")
    strategy_params = NullableObjectField(required=False, help_text="Merged over the source's params.")
    reuse = serializers.BooleanField(required=False, allow_null=True, help_text="Default: the source's.")


class LegacyTestStartSerializer(serializers.Serializer):
    market = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Default XBTUSD."
    )
    strategy = serializers.CharField(
        required=False, allow_null=True, allow_blank=True, help_text="Default TestBot."
    )
    strategy_params = NullableObjectField(required=False)
    name = _text(255)


class LegacyMarketStartSerializer(serializers.Serializer):
    market = serializers.CharField()
    exchange = serializers.ChoiceField(choices=EXCHANGE_CHOICES, required=False, allow_null=True)


# --- envelopes ----------------------------------------------------------------------------------


class ErrorSerializer(serializers.Serializer):
    """Every refusal: one sentence, and the messages of each field at fault."""

    success = _success(False)
    error = serializers.CharField()
    errors = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ServerErrorSerializer(ErrorSerializer):
    request_id = serializers.CharField(required=False, help_text="The id the server's logs carry.")


class _Page(serializers.Serializer):
    success = _success(True)
    total = serializers.IntegerField()
    limit = serializers.IntegerField()
    offset = serializers.IntegerField()


class _KeysetPage(_Page):
    offset = serializers.IntegerField(allow_null=True, help_text="null on a page read by cursor.")
    next_cursor = serializers.CharField(
        allow_null=True, help_text="Pass as ?cursor= for the next page (keyset); null on the last page."
    )


class SessionListSerializer(_KeysetPage):
    sessions = SessionSerializer(many=True)


class SessionAnswerSerializer(serializers.Serializer):
    success = _success(True)
    session = SessionSerializer()


class SessionDeletedSerializer(serializers.Serializer):
    success = _success(True)
    deleted = serializers.CharField(help_text="The id of the deleted session.")


class TradePageSerializer(_KeysetPage):
    trades = TradeSerializer(many=True)
    config_hash = serializers.CharField(allow_null=True, help_text="The run; null when there is none.")


class MetricsAnswerSerializer(serializers.Serializer):
    success = _success(True)
    metrics = MetricsSerializer()
    config_hash = serializers.CharField(allow_null=True)


class EquityAnswerSerializer(serializers.Serializer):
    success = _success(True)
    equity = EquityField()
    currency = serializers.CharField()
    config_hash = serializers.CharField(allow_null=True)


@extend_schema_field(
    {
        "type": "array",
        "items": {"type": "array", "items": {"type": "number"}, "minItems": 6, "maxItems": 6},
        "description": "[[open time (Unix seconds), open, high, low, close, volume], ...], oldest first.",
    }
)
class CandlesField(serializers.JSONField):
    pass


class ChartMarkerSerializer(serializers.Serializer):
    time = serializers.IntegerField(help_text=f"When the trade entered or exited ({UNIX}).")
    side = serializers.ChoiceField(choices=Trade.Side.values)
    price = serializers.FloatField(allow_null=True)
    kind = serializers.ChoiceField(choices=["entry", "exit"])
    trade_id = serializers.IntegerField()
    pnl = serializers.FloatField(allow_null=True, help_text="The trade's realized PnL, on its exit marker.")


# "from" is a Python keyword: the class is built from a dict of its fields.
ChartAnswerSerializer = type(
    "ChartAnswerSerializer",
    (serializers.Serializer,),
    {
        "__doc__": "A chart's window: candles, every trade of it as markers, the equity in it.",
        "success": _success(True),
        "candles": CandlesField(),
        "markers": ChartMarkerSerializer(many=True),
        "equity": EquityField(),
        "market": serializers.CharField(help_text="The market leg drawn."),
        "timeframe": serializers.ChoiceField(choices=TIMEFRAME_CHOICES),
        "config_hash": serializers.CharField(allow_null=True),
        "live": serializers.BooleanField(help_text="The session runs: poll for what follows `to`."),
        "from": serializers.IntegerField(allow_null=True, help_text="The window served (Unix seconds)."),
        "to": serializers.IntegerField(allow_null=True, help_text="Its end, exclusive (Unix seconds)."),
        "interval": serializers.IntegerField(help_text="Seconds per candle after aggregation."),
    },
)


class LogsAnswerSerializer(serializers.Serializer):
    success = _success(True)
    lines = serializers.ListField(child=serializers.CharField(allow_blank=True))
    offset = serializers.IntegerField(help_text="Pass it back as ?offset= to get what follows.")
    size = serializers.IntegerField(help_text="The log's size in bytes.")


class EventPageSerializer(_Page):
    events = EventSerializer(many=True)


class RunPageSerializer(_KeysetPage):
    runs = RunSerializer(many=True)


class RunAnswerSerializer(serializers.Serializer):
    success = _success(True)
    run = RunSerializer()


class RunSessionSerializer(serializers.Serializer):
    """What names a run's session beside runs of other sessions."""

    id = serializers.CharField()
    name = serializers.CharField(allow_null=True)
    market = serializers.CharField()
    strategy = serializers.CharField()
    timeframe = serializers.ChoiceField(choices=TIMEFRAME_CHOICES)
    range_start = serializers.IntegerField(allow_null=True, help_text=f"Backtests only ({UNIX}).")
    range_end = serializers.IntegerField(allow_null=True, help_text=f"Backtests only ({UNIX}).")


class ComparedRunSerializer(RunSerializer):
    session = RunSessionSerializer()


@extend_schema_field(
    {
        "type": "object",
        "additionalProperties": EQUITY_CURVE,
        "description": "Run id -> its equity curve.",
    }
)
class EquityByRunField(serializers.JSONField):
    pass


class CompareAnswerSerializer(serializers.Serializer):
    success = _success(True)
    runs = ComparedRunSerializer(many=True, help_text="In the order asked.")
    equity = EquityByRunField()


class StrategyListSerializer(serializers.Serializer):
    success = _success(True)
    strategies = StrategySerializer(many=True)
    total = serializers.IntegerField()


class StrategyAnswerSerializer(serializers.Serializer):
    success = _success(True)
    strategy = StrategySerializer()


class MarketListSerializer(serializers.Serializer):
    success = _success(True)
    markets = MarketSerializer(many=True)
    total = serializers.IntegerField()


class LegacySessionAnswerSerializer(serializers.Serializer):
    success = _success(True)
    session = SessionSerializer(allow_null=True)
    deprecated = serializers.CharField(help_text="Where to go instead.")
