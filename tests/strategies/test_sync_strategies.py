"""manage.py sync_strategies: registry rows back, admin edits kept unless --reset."""

from io import StringIO

from django.core.management import call_command

from bots.exchanges.registry import exchange_classes
from strategies_app.models import Market, Strategy


def sync(*args) -> str:
    out = StringIO()
    call_command("sync_strategies", *args, stdout=out)
    return out.getvalue()


def test_migrate_leaves_the_built_in_strategies_and_markets(db):
    assert list(Strategy.objects.values_list("id", flat=True)) == [
        "MarketScraper",
        "PairTradeBot",
        "SmaCross",
        "TestBot",
    ]
    assert Market.objects.filter(exchange="sim").count() == 6


def test_it_recreates_a_deleted_strategy(db):
    Strategy.objects.filter(id="SmaCross").delete()

    output = sync()

    strategy = Strategy.objects.get(id="SmaCross")
    assert strategy.default_params == {"n1": 10, "n2": 20, "position_size": 0.05}
    assert strategy.supported_types == ["test", "backtest"]
    assert strategy.param_schema["properties"]["n1"]["minimum"] == 1
    assert "Synced 4 strategies" in output and "SmaCross" in output


def test_it_keeps_admin_edits_to_defaults_and_schema(db):
    Strategy.objects.filter(id="TestBot").update(
        default_params={"threshold": 0.2, "position_size": 5},
        param_schema={
            "type": "object",
            "properties": {"threshold": {"type": "number", "minimum": 0, "maximum": 0.5}},
        },
        name="Renamed in the admin",
    )

    sync()

    strategy = Strategy.objects.get(id="TestBot")
    assert strategy.default_params == {"threshold": 0.2, "position_size": 5}
    assert strategy.param_schema["properties"]["threshold"]["maximum"] == 0.5
    assert strategy.name == "Test Bot"  # metadata always follows the class


def test_reset_restores_the_class_defaults_and_schema(db):
    Strategy.objects.filter(id="TestBot").update(
        default_params={"threshold": 0.2, "position_size": 5}, param_schema={}
    )

    sync("--reset")

    strategy = Strategy.objects.get(id="TestBot")
    assert strategy.default_params == {"threshold": 0.5, "position_size": 1}
    assert strategy.param_schema["properties"]["threshold"]["maximum"] == 1


def test_it_restores_deleted_markets_and_keeps_edited_ones(db):
    Market.objects.filter(exchange="sim", symbol="SOLUSD").delete()
    Market.objects.filter(exchange="sim", symbol="XBTUSD").update(tick_size="1")

    output = sync()

    assert Market.objects.filter(exchange="sim", symbol="SOLUSD").exists()
    assert str(Market.objects.get(exchange="sim", symbol="XBTUSD").tick_size.normalize()) == "1"
    assert "1 new markets" in output


def test_it_seeds_the_markets_each_exchange_lists(db):
    for name, cls in exchange_classes().items():
        seeded = Market.objects.filter(exchange=name).order_by("id").values_list("symbol", flat=True)
        assert tuple(seeded) == cls.markets, name
