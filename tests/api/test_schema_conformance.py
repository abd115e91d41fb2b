"""Schemathesis over the whole /api/schema/, against the live test server.

Every operation of the schema is called with generated requests (valid ones and, in its
negative mode, invalid ones) as an operator with a real DRF token, and each answer is held to
three checks: no 5xx (`not_a_server_error`), a status code the operation documents
(`status_code_conformance`), and a body that matches the documented schema for that status
(`response_schema_conformance`).

Generated ids are mostly unknown (404s); a hook swaps in the ids of real sessions, runs and
strategies for part of the cases, and the request bodies carry valid examples, so the answers
of the happy paths are checked too. No worker runs here: a start leaves its session running,
unclaimed, in a private broker queue, and the limits are raised so starts do not hit them.
"""

from __future__ import annotations

import json

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import backtest_range

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Bounded so the whole run stays well under a minute on two cores.
CONFIG = {
    "generation": {"max-examples": 12, "deterministic": True},
    # Examples, coverage (boundaries, wrong types) and fuzzing; stateful runs need links
    # between operations, which the schema does not declare.
    "phases": {"stateful": {"enabled": False}},
}
OPENAPI_JSON = "application/vnd.oai.openapi+json"


def _real_objects(make_session, data_root):
    """Sessions in every state worth reading, with a run, trades, events and a log."""
    from sessions_app.models import Run, SessionEvent, Trade

    finished = make_session(type="backtest", **backtest_range())
    run = Run.objects.get(session=finished)
    Trade.objects.bulk_create(
        [
            Trade(
                run=run,
                market="XBTUSD",
                side="long",
                entry_time=1_700_000_000,
                entry_price="30000",
                entry_size="100",
                exit_time=1_700_000_060,
                exit_price="30010",
                exit_size="100",
                realized_pnl="0.00001",
                fee="0.0000001",
            ),
            Trade(
                run=run,
                market="XBTUSD",
                side="short",
                entry_time=1_700_000_120,
                entry_price="30005",
                entry_size="50",
            ),
        ]
    )
    Run.objects.filter(pk=run.pk).update(equity=[[1_700_000_000, 1.0], [1_700_000_060, 1.00001]])
    SessionEvent.objects.create(session=finished, event_type="info", event_data={"message": "checked"})
    log = data_root / "logs" / f"{finished.pk}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    log.write_text("2025-01-01 00:00:00 one\n2025-01-01 00:00:01 two\n")
    finished.logs_file = str(log)
    finished.save(update_fields=["logs_file"])

    running = make_session(start=True)
    stopped = make_session(stop=True)
    created = make_session(type="scraper", strategy="MarketScraper")
    kept = [finished, running, stopped, created]
    # DELETE takes these, so the others stay for the operations that read.
    disposable = [make_session(name=f"Disposable {i}") for i in range(3)]
    return kept, disposable


def _examples(raw: dict) -> None:
    """Valid bodies as the request examples: the happy paths' answers get checked too."""
    bodies = {
        ("/api/sessions/", "post"): {
            "type": "test",
            "market": "XBTUSD",
            "strategy": "TestBot",
            "name": "Made",
        },
        ("/api/sessions/{session_id}/", "patch"): {"name": "Renamed", "notes": "by schemathesis"},
        ("/api/sessions/{session_id}/clone/", "post"): {"name": "A clone"},
        ("/test/start/", "post"): {"market": "XBTUSD"},
        ("/market/start/", "post"): {"market": "ETHUSD"},
    }
    for (path, method), body in bodies.items():
        raw["paths"][path][method]["requestBody"]["content"]["application/json"]["example"] = body


def _served_schema() -> dict:
    """The document /api/schema/ serves, made here at collection: schemathesis parametrizes
    one test per operation from it. The test checks the live server serves the same."""
    from drf_spectacular.generators import SchemaGenerator
    from drf_spectacular.renderers import OpenApiJsonRenderer

    return json.loads(OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True)))


RAW = _served_schema()
_examples(RAW)
schema = schemathesis.openapi.from_dict(RAW, config=schemathesis.Config.from_dict(CONFIG))
# Filled per test by `real_objects`, read by the hook while cases are drawn.
REAL: dict[str, list] = {}


@schema.hook
def flatmap_path_parameters(context, path_parameters):
    """Half the cases on real objects; the others keep their generated (unknown) ids. (The
    schema's examples are drawn at collection, before any object exists: those keep theirs.)"""
    if not path_parameters or not REAL:
        return st.just(path_parameters)
    if "strategy_id" in path_parameters:
        real = st.sampled_from(REAL["strategies"]).map(lambda strategy_id: {"strategy_id": strategy_id})
    elif "session_id" in path_parameters:
        pool = REAL["disposable" if context.operation.method.upper() == "DELETE" else "kept"]
        real = st.sampled_from(pool).map(lambda ids: {k: ids[k] for k in path_parameters})
    else:
        return st.just(path_parameters)
    return st.one_of(st.just(path_parameters), real)


@pytest.fixture
def operator_token(operator):
    from rest_framework.authtoken.models import Token

    return Token.objects.create(user=operator).key


@pytest.fixture
def real_objects(live_server, make_session, data_root, settings, broker_isolation):
    from sessions_app.models import Run
    from strategies_app.models import Strategy

    settings.SESSION_LIMITS = {"test": 1000, "backtest": 1000, "scraper": 1000}
    kept, disposable = _real_objects(make_session, data_root)

    def ids(sessions):
        return [
            {"session_id": s.pk, "config_hash": Run.objects.filter(session=s).first().config_hash}
            for s in sessions
        ]

    REAL.update(
        kept=ids(kept),
        disposable=ids(disposable),
        strategies=list(Strategy.objects.values_list("id", flat=True)),
    )
    yield REAL
    REAL.clear()


@schema.parametrize()
# The objects and the token serve every case of an operation: that is the point, not a slip.
@hypothesis_settings(
    deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
def test_every_operation_answers_as_the_schema_says(case, live_server, operator_token, real_objects):
    """schemathesis: no 5xx, only documented status codes, bodies that match the schema."""
    case.call_and_validate(
        base_url=live_server.url, headers={"Authorization": f"Token {operator_token}"}, checks=CHECKS
    )


def test_the_live_server_serves_the_schema_that_was_tested(live_server, operator_token):
    response = requests.get(
        f"{live_server.url}/api/schema/",
        headers={"Accept": OPENAPI_JSON, "Authorization": f"Token {operator_token}"},
        timeout=30,
    )

    assert response.status_code == 200, response.text[:300]
    assert response.json() == _served_schema()
