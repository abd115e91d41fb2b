"""services.session_clone: the source's config with merged overrides, cloned_from set."""

import pytest

from sessions_app import services
from sessions_app.errors import InvalidInput
from sessions_app.models import Session


def test_it_merges_param_overrides_into_the_sources_params(make_session, operator):
    source = make_session(strategy_params={"threshold": 0.3, "position_size": 50})

    clone = services.session_clone(
        session=source, user=operator, data={"strategy_params": {"position_size": 7}}
    )

    assert clone.cloned_from_id == source.id
    assert clone.strategy_params == {"threshold": 0.3, "position_size": 7}
    assert clone.created_by == operator
    assert Session.objects.get(pk=clone.pk).cloned_from_id == source.id
    assert clone.runs.get().config_hash != source.runs.get().config_hash


def test_an_unchanged_clone_has_the_sources_config_hash(make_session):
    source = make_session(type="backtest")

    clone = services.session_clone(session=source)

    assert clone.runs.get().config_hash == source.runs.get().config_hash
    assert clone.name == f"Clone of {source.name}"


def test_it_refuses_an_override_the_strategy_rejects(make_session):
    source = make_session()

    with pytest.raises(InvalidInput) as refused:
        services.session_clone(session=source, data={"strategy_params": {"threshold": 2}})

    assert list(refused.value.errors) == ["strategy_params.threshold"]
    assert Session.objects.count() == 1
