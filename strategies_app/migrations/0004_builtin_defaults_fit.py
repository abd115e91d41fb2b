from django.db import migrations

# The built-ins' defaults once needed more than 1x leverage of the default balance (100 ETH
# against 10,000 USD); rows still holding the old defaults get the new ones. A row edited in
# the admin since keeps what it was given.
CHANGED = {
    "TestBot": ({"threshold": 0.5, "position_size": 100}, {"threshold": 0.5, "position_size": 1}),
    "SmaCross": ({"n1": 10, "n2": 20, "position_size": 1}, {"n1": 10, "n2": 20, "position_size": 0.05}),
    "PairTradeBot": (
        {"spread_threshold": 2.0, "lookback": 100, "position_size": 100},
        {"spread_threshold": 2.0, "lookback": 100, "position_size": 1},
    ),
}


def defaults_fit(apps, schema_editor):
    Strategy = apps.get_model("strategies_app", "Strategy")
    db = schema_editor.connection.alias
    for strategy in Strategy.objects.using(db).filter(id__in=CHANGED):
        old, new = CHANGED[strategy.id]
        if strategy.default_params == old:
            strategy.default_params = new
            strategy.save(update_fields=["default_params"])


class Migration(migrations.Migration):
    dependencies = [
        ("strategies_app", "0003_market_account_rules"),
    ]

    operations = [migrations.RunPython(defaults_fit, migrations.RunPython.noop)]
