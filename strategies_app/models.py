from decimal import Decimal

from django.db import models
from django.db.models.functions import Now
from django.utils import timezone

from bots.markets import MarketSpec


class Strategy(models.Model):
    """Reference data for a strategy class of the registry, editable in the admin."""

    id = models.CharField(max_length=50, primary_key=True)
    name = models.CharField(max_length=100)
    description = models.TextField(null=True, blank=True)
    supported_types = models.JSONField(default=list)
    supported_markets = models.JSONField(default=list)
    default_params = models.JSONField(default=dict)
    param_schema = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_default=Now())

    class Meta:
        db_table = "strategies"
        ordering = ["id"]
        verbose_name_plural = "strategies"

    def __str__(self):
        return self.id

    def supports_market(self, market: str) -> bool:
        """Listed, or any market with as many legs as the strategy trades when "*" is listed."""
        if market in self.supported_markets:
            return True
        return "*" in self.supported_markets and market.count("+") + 1 == self.legs

    @property
    def legs(self) -> int:
        """How many markets one session of this strategy trades ("A+B" has two)."""
        markets = [m for m in self.supported_markets if m != "*"]
        return max((m.count("+") + 1 for m in markets), default=1)


class Market(models.Model):
    class ContractType(models.TextChoices):
        LINEAR = "linear"
        INVERSE = "inverse"
        QUANTO = "quanto"

    exchange = models.CharField(max_length=50)
    symbol = models.CharField(max_length=20)
    base = models.CharField(max_length=20)
    quote = models.CharField(max_length=20)
    settle = models.CharField(max_length=20)
    contract_type = models.CharField(max_length=10, choices=ContractType.choices, default=ContractType.LINEAR)
    tick_size = models.DecimalField(max_digits=20, decimal_places=10, default=0.01)
    # Quanto contracts: settle-currency units gained per point of price per contract (BitMEX
    # ETHUSD: 0.000001 XBT). 1 for linear and inverse markets, where it plays no part.
    multiplier = models.DecimalField(max_digits=24, decimal_places=12, default=1)
    # The account rules the engine applies to the market (bots.markets.MarketSpec): sizes in
    # whole lots (0: any size), leverage up to max_leverage, liquidation below
    # maintenance_margin_pct percent of the notional, funding every funding_interval_hours on a
    # perpetual. From the exchange's metadata (refresh_markets), else KNOWN_MARKETS' values.
    lot_size = models.DecimalField(max_digits=24, decimal_places=12, default=0)
    max_leverage = models.DecimalField(max_digits=10, decimal_places=4, default=100)
    maintenance_margin_pct = models.DecimalField(max_digits=8, decimal_places=4, default=Decimal("0.5"))
    perpetual = models.BooleanField(default=False)
    funding_interval_hours = models.DecimalField(max_digits=8, decimal_places=4, default=8)
    active = models.BooleanField(default=True)
    # When the row last came from the exchange's own metadata (manage.py refresh_markets).
    refreshed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "markets"
        ordering = ["exchange", "symbol"]
        constraints = [
            models.UniqueConstraint(fields=["exchange", "symbol"], name="uniq_market_exchange_symbol")
        ]

    def __str__(self):
        return f"{self.symbol} ({self.exchange})"

    def spec(self):
        """The engine's view of this market."""
        return MarketSpec(
            symbol=self.symbol,
            base=self.base,
            quote=self.quote,
            settle=self.settle,
            contract_type=self.contract_type,
            tick_size=float(self.tick_size),
            multiplier=float(self.multiplier),
            lot_size=float(self.lot_size),
            max_leverage=float(self.max_leverage),
            maintenance_margin_pct=float(self.maintenance_margin_pct),
            perpetual=self.perpetual,
            funding_interval_hours=float(self.funding_interval_hours),
        )
