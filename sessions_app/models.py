import uuid

from django.conf import settings
from django.db import models
from django.db.models.functions import Now
from django.utils import timezone


def new_session_id() -> str:
    return str(uuid.uuid4())


def default_exchange() -> str:
    return settings.DEFAULT_EXCHANGE


class SessionType(models.TextChoices):
    TEST = "test", "Live Test"
    BACKTEST = "backtest", "Backtest"
    SCRAPER = "scraper", "Scraper"


class Status(models.TextChoices):
    CREATED = "created"
    RUNNING = "running"
    STOPPED = "stopped"
    COMPLETED = "completed"
    FAILED = "failed"


FINISHED = (Status.STOPPED, Status.COMPLETED, Status.FAILED)
# Who may create, start, stop, edit and delete sessions (everyone logged in may look).
OPERATE_CODENAME = "operate_session"
OPERATE_PERMISSION = f"sessions_app.{OPERATE_CODENAME}"


# The fields a list of sessions sorts by (selectors.SESSION_SORTS), each with its keyset index.
SORTED_FIELDS = (
    "created_at",
    "started_at",
    "stopped_at",
    "name",
    "type",
    "market",
    "strategy",
    "status",
    "trade_count",
    "total_pnl",
    "win_rate",
    "max_drawdown",
    "sharpe",
)


class Sizing(models.TextChoices):
    """What a strategy's position_size means (docs/engine.md, "Margin")."""

    UNITS = "units", "Units (contracts or coins)"
    EQUITY = "equity", "Fraction of the margin available"
    NOTIONAL = "notional", "Value in the quote currency"


class Session(models.Model):
    """One trading session: a live test, a backtest (maybe a sweep of runs) or a market scraper."""

    id = models.CharField(max_length=36, primary_key=True, default=new_session_id, editable=False)
    name = models.CharField(max_length=255, null=True, blank=True)

    type = models.CharField(max_length=10, choices=SessionType.choices)
    market = models.CharField(max_length=20)
    exchange = models.CharField(max_length=50, default=default_exchange)
    strategy = models.CharField(max_length=100)
    strategy_params = models.JSONField(null=True, blank=True)
    timeframe = models.CharField(max_length=4, default="1m")
    initial_balance = models.DecimalField(max_digits=20, decimal_places=8, null=True, blank=True)
    fee_bps = models.DecimalField(max_digits=8, decimal_places=4, default=7.5)
    slippage_bps = models.DecimalField(max_digits=8, decimal_places=4, default=0)
    # The account (one cross-margin account per run): leverage up to the markets' maximum,
    # what position_size means, the maintenance margin in percent (null: each market's own)
    # and funding (null: paid where the market is a perpetual).
    leverage = models.DecimalField(max_digits=10, decimal_places=4, default=1, db_default=1)
    sizing = models.CharField(
        max_length=10, choices=Sizing.choices, default=Sizing.UNITS, db_default=Sizing.UNITS
    )
    maintenance_margin_pct = models.DecimalField(max_digits=8, decimal_places=4, null=True, blank=True)
    funding = models.BooleanField(null=True, blank=True)
    # A backtest sweep: param name -> list of values; the product of the lists is the runs.
    sweep = models.JSONField(null=True, blank=True)

    range_start = models.BigIntegerField(null=True, blank=True)
    range_end = models.BigIntegerField(null=True, blank=True)

    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.CREATED, db_default=Status.CREATED
    )
    pid = models.IntegerField(null=True, blank=True)
    worker = models.CharField(max_length=255, null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Lost workers in a row that the reaper resumed the session after (MAX_RESUMES),
    # and when it last did.
    resumes = models.PositiveIntegerField(default=0, db_default=0)
    resumed_at = models.DateTimeField(null=True, blank=True)
    stop_requested = models.BooleanField(default=False)
    error = models.TextField(null=True, blank=True)

    # Python and the table both default to "now": rows inserted outside Django get a time too.
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="trading_sessions",
    )

    trade_count = models.IntegerField(default=0, db_default=0)
    total_pnl = models.DecimalField(max_digits=20, decimal_places=8, default=0, db_default=0)
    win_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0, db_default=0)
    max_drawdown = models.DecimalField(max_digits=10, decimal_places=4, default=0, db_default=0)
    # Null while undefined (under two days of equity, no variance).
    sharpe = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)
    progress_done = models.BigIntegerField(default=0)
    progress_total = models.BigIntegerField(null=True, blank=True)

    trades_file = models.CharField(max_length=500, null=True, blank=True)
    logs_file = models.CharField(max_length=500, null=True, blank=True)

    cloned_from = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        db_column="cloned_from",
        related_name="clones",
    )
    notes = models.TextField(null=True, blank=True)
    # Where to POST when the session ends (besides WEBHOOK_URLS); http or https only.
    notify_url = models.URLField(max_length=500, null=True, blank=True)
    # sha256 of the legacy trades file this session was imported from: a second import of
    # the same file finds it here and creates nothing.
    import_sha256 = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # A backtest run identical to a completed one (config hash and data fingerprint) copies it.
    reuse = models.BooleanField(default=True, db_default=True)

    class Meta:
        db_table = "sessions"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["status"], name="idx_status"),
            models.Index(fields=["type"], name="idx_type"),
            models.Index(fields=["-created_at"], name="idx_created"),
            # "Best first" (sort=total_pnl:desc) read from the index instead of sorting all rows.
            models.Index(fields=["-total_pnl"], name="idx_total_pnl"),
            # Keyset pages: every sort of the list's whitelist in the order
            # (field, id), read forwards or backwards; SQLite's indexes carry the rowid, not
            # the id, so the id is spelled out.
            *(models.Index(fields=[field, "id"], name=f"idx_s_{field}_id") for field in SORTED_FIELDS),
            # Each filter of the list with its default order (newest first).
            *(
                models.Index(fields=[field, "created_at", "id"], name=f"idx_s_{field}_created_id")
                for field in ("type", "status", "market", "strategy")
            ),
        ]
        permissions = [(OPERATE_CODENAME, "Can create, start, stop, edit and delete sessions")]

    def __str__(self):
        return self.name or self.id

    @property
    def waiting_for_worker(self) -> bool:
        """Started, but no worker has claimed it yet (the queue is busy or no worker runs)."""
        return self.status == Status.RUNNING and not self.worker

    @property
    def duration(self):
        """Time between start and stop (or now, while running); None before the start."""
        if not self.started_at:
            return None
        return (self.stopped_at or timezone.now()) - self.started_at

    @property
    def market_legs(self) -> list[str]:
        return self.market.split("+")


class Run(models.Model):
    """One configuration of a session's strategy, run on its own and keyed by config hash."""

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="runs")
    config_hash = models.CharField(max_length=12)
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    error = models.TextField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    stopped_at = models.DateTimeField(null=True, blank=True)
    # Who computed it (the worker's name, "node:pid", and the pid), on what candles (a hash of
    # the data it read), or which completed run it was copied from instead.
    worker = models.CharField(max_length=255, null=True, blank=True)
    pid = models.IntegerField(null=True, blank=True)
    data_fingerprint = models.CharField(max_length=64, null=True, blank=True)
    reused_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reuses"
    )
    # Stamped by the process computing the run (a sweep's runs spread over many): a running run
    # whose stamp grows older than STALE_AFTER_SECONDS was lost with its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    trade_count = models.IntegerField(default=0)
    total_pnl = models.DecimalField(max_digits=20, decimal_places=8, default=0)
    win_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    max_drawdown = models.DecimalField(max_digits=10, decimal_places=4, default=0)
    sharpe = models.DecimalField(max_digits=12, decimal_places=4, null=True, blank=True)  # null: undefined
    # Every metric the engine computes (profit_factor, fees_paid, ...) and the downsampled equity curve.
    metrics = models.JSONField(default=dict)
    equity = models.JSONField(default=list)
    # A live run's state to resume from (bots.runners.live: positions, cash, the order waiting
    # for the next open, the last candle), written with each trade and every heartbeat.
    checkpoint = models.JSONField(null=True, blank=True)

    class Meta:
        db_table = "runs"
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["session", "config_hash"], name="uniq_run_config_hash")
        ]
        indexes = [
            models.Index(fields=["session", "-total_pnl"], name="idx_run_profit"),
            # Reuse looks up a completed run by what makes it and what it read.
            models.Index(fields=["config_hash", "data_fingerprint", "status"], name="idx_run_reuse"),
            # GET /api/runs pages by keyset on (sort value, id): each sort read from its index.
            models.Index(fields=["total_pnl", "id"], name="idx_run_pnl_id"),
            models.Index(fields=["sharpe", "id"], name="idx_run_sharpe_id"),
            models.Index(fields=["win_rate", "id"], name="idx_run_win_rate_id"),
            models.Index(fields=["max_drawdown", "id"], name="idx_run_drawdown_id"),
        ]

    def __str__(self):
        return f"{self.session_id}:{self.config_hash}"


class Trade(models.Model):
    class Side(models.TextChoices):
        LONG = "long"
        SHORT = "short"

    class ExitReason(models.TextChoices):
        SIGNAL = "signal"  # the strategy closed it
        END = "end"  # closed at the end of the run (or by a stop)
        LIQUIDATION = "liquidation"

    # What a trade is, in one order: bulk inserts, exports and archives all use it.
    VALUE_FIELDS = (
        "market", "side", "entry_time", "entry_price", "entry_size", "exit_time", "exit_price",
        "exit_size", "realized_pnl", "fee", "exit_reason", "funding",
    )  # fmt: skip

    # No index of its own: idx_trade_run_time_id starts with run_id (and one index less to
    # keep up costs every insert of a sweep's millions of trades).
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="trades", db_index=False)
    market = models.CharField(max_length=20)
    side = models.CharField(max_length=5, choices=Side.choices)
    entry_time = models.BigIntegerField()
    entry_price = models.DecimalField(max_digits=24, decimal_places=10)
    entry_size = models.DecimalField(max_digits=24, decimal_places=10)
    exit_time = models.BigIntegerField(null=True, blank=True)
    exit_price = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    exit_size = models.DecimalField(max_digits=24, decimal_places=10, null=True, blank=True)
    realized_pnl = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    fee = models.DecimalField(max_digits=24, decimal_places=10, default=0)
    # Table defaults too: rows written by raw inserts of the old shape (restores of older
    # archives) get them.
    exit_reason = models.CharField(
        max_length=12, choices=ExitReason.choices, default=ExitReason.SIGNAL, db_default=ExitReason.SIGNAL
    )
    # Funding paid while open, in the settle currency (positive: paid), already in realized_pnl.
    funding = models.DecimalField(max_digits=24, decimal_places=10, default=0, db_default=0)

    class Meta:
        db_table = "trades"
        ordering = ["entry_time", "id"]
        # Pages of a run's trades are keyset pages on (entry_time, id); SQLite's index carries
        # the rowid, not the id, so the id is spelled out.
        indexes = [models.Index(fields=["run", "entry_time", "id"], name="idx_trade_run_time_id")]


class SessionEvent(models.Model):
    """The session's story: created, started, trades, errors, how it ended."""

    class EventType(models.TextChoices):
        CREATED = "created"
        STARTED = "started"
        STOPPED = "stopped"
        TRADE = "trade"
        ERROR = "error"
        METRIC_UPDATE = "metric_update"
        # How a run ended, and data-check findings worth telling.
        COMPLETED = "completed"
        INFO = "info"
        # Webhook deliveries when the session ended, so a failed delivery can be seen.
        NOTIFIED = "notified"
        NOTIFY_FAILED = "notify_failed"
        # A worker's warm shutdown handed the session back; a worker took it up again.
        SUSPENDED = "suspended"
        RESUMED = "resumed"
        # The account was liquidated (prices, equity before and after, the insurance's part).
        LIQUIDATED = "liquidated"

    session = models.ForeignKey(Session, on_delete=models.CASCADE, related_name="events", db_index=False)
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    event_data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "session_events"
        ordering = ["created_at", "id"]
        # SQLite wants index names unique in the database: plain idx_session/idx_created
        # on this table would clash with sessions' idx_created, hence the prefix.
        indexes = [
            models.Index(fields=["session"], name="idx_event_session"),
            models.Index(fields=["created_at"], name="idx_event_created"),
        ]


class TypeLock(models.Model):
    """One row per session type, locked while a start counts the type's running sessions."""

    type = models.CharField(max_length=10, choices=SessionType.choices, primary_key=True)

    class Meta:
        db_table = "session_type_locks"
