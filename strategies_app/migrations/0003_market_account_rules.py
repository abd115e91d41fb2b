from decimal import Decimal

from django.db import migrations, models

# The markets the engine knows, with their rules (bots.markets.KNOWN_MARKETS when this was
# written), copied so the migration stays what it was when the list changes:
# symbol -> (lot_size, max_leverage, maintenance_margin_pct); all of them perpetuals, funded
# every 8 hours.
SEED = {
    "XBTUSD": ("1", "100", "0.35"),
    "ETHUSD": ("0.001", "50", "0.5"),
    "SOLUSD": ("0.01", "25", "1.0"),
    "XRPUSD": ("1", "25", "1.0"),
    "DOGEUSD": ("1", "25", "1.0"),
    "BTCUSDT": ("0.001", "125", "0.4"),
    "ETHUSDT": ("0.001", "100", "0.5"),
}
LOCAL = "local"  # imported candles: whole units, never a perpetual


def fill(apps, schema_editor):
    Market = apps.get_model("strategies_app", "Market")
    db = schema_editor.connection.alias
    for market in Market.objects.using(db).all():
        if market.exchange == LOCAL:
            market.lot_size, market.perpetual = Decimal(1), False
        elif market.symbol in SEED:
            lot, leverage, maintenance = SEED[market.symbol]
            market.lot_size, market.max_leverage = Decimal(lot), Decimal(leverage)
            market.maintenance_margin_pct, market.perpetual = Decimal(maintenance), True
        else:
            continue
        market.save(update_fields=["lot_size", "max_leverage", "maintenance_margin_pct", "perpetual"])


class Migration(migrations.Migration):
    dependencies = [
        ("strategies_app", "0002_market_multiplier_quanto"),
    ]

    operations = [
        migrations.AddField(
            model_name="market",
            name="lot_size",
            field=models.DecimalField(decimal_places=12, default=0, max_digits=24),
        ),
        migrations.AddField(
            model_name="market",
            name="max_leverage",
            field=models.DecimalField(decimal_places=4, default=100, max_digits=10),
        ),
        migrations.AddField(
            model_name="market",
            name="maintenance_margin_pct",
            field=models.DecimalField(decimal_places=4, default=Decimal("0.5"), max_digits=8),
        ),
        migrations.AddField(
            model_name="market",
            name="perpetual",
            field=models.BooleanField(default=False),
        ),
        migrations.AddField(
            model_name="market",
            name="funding_interval_hours",
            field=models.DecimalField(decimal_places=4, default=8, max_digits=8),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
