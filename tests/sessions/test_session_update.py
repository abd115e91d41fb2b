"""services.session_update: text always, configuration while created, runs rebuilt."""

import pytest

from sessions_app import services
from sessions_app.errors import Conflict


def test_a_new_strategy_drops_the_old_params(make_session):
    session = make_session(market="ETHUSD", strategy_params={"threshold": 0.3, "position_size": 5})

    updated = services.session_update(session=session, data={"strategy": "SmaCross"})

    assert updated.strategy_params == {"n1": 10, "n2": 20, "position_size": 0.05}
    assert updated.runs.get().params == {"n1": 10, "n2": 20, "position_size": 0.05}


def test_making_it_a_backtest_builds_the_sweep_runs(make_session):
    import time

    end = int(time.time()) - 86_400
    session = make_session()

    updated = services.session_update(
        session=session,
        data={
            "type": "backtest",
            "range_start": end - 86_400,
            "range_end": end,
            "sweep": {"threshold": [0.2, 0.4, 0.6]},
        },
    )

    assert updated.runs.count() == 3


def test_a_running_sessions_config_is_refused_naming_each_field(make_session):
    session = make_session(start=True)

    with pytest.raises(Conflict) as refused:
        services.session_update(session=session, data={"market": "ETHUSD", "timeframe": "5m"})

    assert set(refused.value.errors) == {"market", "timeframe"}
    session.refresh_from_db()
    assert (session.market, session.timeframe) == ("XBTUSD", "1m")
