"""Schemathesis over the whole /api/schema/, against the live test server.

Every operation of the schema is called with generated requests (valid ones and, in its
negative mode, invalid ones) as an operator with a real DRF token, and each answer is held to
three checks: no 5xx (`not_a_server_error`), a status code the operation documents
(`status_code_conformance`), and a body that matches the documented schema for that status
(`response_schema_conformance`).

Generated ids are mostly unknown (404s); a hook swaps in the ids of real sessions, runs and
strategies for part of the cases, and the request bodies carry valid examples, so the answers
of the happy paths are checked too. On top of the fuzzing, every GET operation of the schema is
called on every real object, with the queries that reach real data (a run by its hash, runs to
compare, a group's summary), so each read's answer is held to the schema whatever the fuzzer
happens to draw; among the objects, completed backtests whose engine metrics are undefined
(no trade at all, one winning trade: profit_factor and sharpe are null).

No worker runs here: a start leaves its session running, unclaimed, in a private broker queue,
and the limits are raised so starts do not hit them.
"""

from __future__ import annotations

import json
import time
from types import SimpleNamespace

import numpy as np
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

from tests.conftest import DAY, backtest_range

CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# Bounded so the whole run stays well under a minute on two cores.
CONFIG = {
    "generation": {"max-examples": 12, "deterministic": True},
    # Examples, coverage (boundaries, wrong types) and fuzzing; stateful runs need links
    # between operations, which the schema does not declare.
    "phases": {"stateful": {"enabled": False}},
}
OPENAPI_JSON = "application/vnd.oai.openapi+json"


def _completed(make_session, *, name: str, pnls: list[float]):
    """A backtest completed with the engine's own metrics of trades making `pnls`, over one day:
    profit_factor is undefined without a losing trade and sharpe under two days (both null),
    while the run's and the session's sharpe columns hold 0."""
    from bots.metrics import compute_metrics
    from sessions_app import services
    from sessions_app.models import Run, Trade

    start = (int(time.time()) // DAY - 2) * DAY  # a whole UTC day: one daily return
    session = make_session(type="backtest", name=name, start=True, range_start=start, range_end=start + DAY)
    run = Run.objects.get(session=session)
    Trade.objects.bulk_create(
        Trade(
            run=run,
            market="XBTUSD",
            side="long",
            entry_time=start + k * 600,
            entry_price="30000",
            entry_size="100",
            exit_time=start + k * 600 + 300,
            exit_price="30010",
            exit_size="100",
            realized_pnl=str(pnl),
            fee="0",
        )
        for k, pnl in enumerate(pnls)
    )
    times = np.arange(start, start + DAY, 3600)
    equity = 1.0 + np.cumsum(np.r_[pnls, np.zeros(len(times) - len(pnls))])
    metrics = compute_metrics(
        trades=[SimpleNamespace(run_pnl=pnl) for pnl in pnls],
        times=times,
        equity=equity,
        initial_balance=1.0,
        currency="XBT",
        fees_paid=0.0,
        exposed_candles=len(pnls),
        candles=len(times),
    )
    assert metrics["profit_factor"] is None and metrics["sharpe"] is None
    curve = [[int(t), float(e)] for t, e in zip(times, equity, strict=True)]
    services.session_results_save(session=session, run=run, metrics=metrics, equity=curve, status="completed")
    services.session_finish(session=session, status="completed")
    return session


def _real_objects(make_session, data_root, *, reads: bool):
    """Sessions in every state worth reading, with a run, trades, events and a log; for the
    reads, the completed backtests whose metrics are undefined too, else sessions to delete."""
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
    if reads:
        kept.append(_completed(make_session, name="No trade", pnls=[]))
        kept.append(_completed(make_session, name="One winning trade", pnls=[0.00001]))
        return kept, []
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


def _fill(make_session, data_root, settings, *, reads: bool) -> dict:
    from sessions_app.models import Run
    from strategies_app.models import Strategy

    settings.SESSION_LIMITS = {"test": 1000, "backtest": 1000, "scraper": 1000}
    kept, disposable = _real_objects(make_session, data_root, reads=reads)

    def ids(sessions):
        return [
            {"session_id": s.pk, "config_hash": Run.objects.filter(session=s).first().config_hash}
            for s in sessions
        ]

    REAL.update(
        kept=ids(kept),
        disposable=ids(disposable),
        strategies=list(Strategy.objects.values_list("id", flat=True)),
        runs=list(Run.objects.filter(session__in=kept).values_list("id", flat=True)),
        sessions=kept,
    )
    return REAL


@pytest.fixture
def real_objects(live_server, make_session, data_root, settings, broker_isolation):
    """What the fuzzed cases read, change and delete."""
    yield _fill(make_session, data_root, settings, reads=False)
    REAL.clear()


@pytest.fixture
def real_reads(live_server, make_session, data_root, settings, broker_isolation):
    """What every GET reads, the sessions with undefined metrics among it."""
    yield _fill(make_session, data_root, settings, reads=True)
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


# --- every GET operation on every real object ---------------------------------------------------

GETS = sorted(path for path, item in RAW["paths"].items() if "get" in item)


def _reads(path: str, real: dict) -> list[tuple[dict, dict]]:
    """(path parameters, query) of the calls that read real data through the GET at `path`."""
    operation = RAW["paths"][path]["get"]
    takes = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
    calls = []
    for session, ids in zip(real["sessions"], real["kept"], strict=True):
        path_parameters = {k: v for k, v in ids.items() if "{" + k + "}" in path}
        queries = [{}]
        if "run" in takes:
            queries.append({"run": ids["config_hash"]})
        if "session" in takes:
            queries.append({"session": ids["session_id"]})
        if path == "/api/runs/summary/":
            if session.range_start is None:
                continue
            queries = [
                {
                    "market": session.market,
                    "timeframe": session.timeframe,
                    "range_start": session.range_start,
                    "range_end": session.range_end,
                }
            ]
        if path == "/api/compare/":
            queries = [{"runs": ",".join(map(str, real["runs"][:8]))}]
        if path == "/api/funding/":  # the rates of the session's (first) market over its range
            window = {"from": session.range_start, "to": session.range_end} if session.range_start else {}
            queries = [{"exchange": session.exchange, "market": session.market.split("+")[0], **window}]
        calls += [(path_parameters, query) for query in queries]
    if "{strategy_id}" in path:
        calls = [({"strategy_id": strategy_id}, {}) for strategy_id in real["strategies"]]
    # One call each where the path names no object and the query depends on none.
    return list({json.dumps(call, sort_keys=True): call for call in calls}.values())


def test_every_read_of_real_data_answers_as_the_schema_says(live_server, operator_token, real_reads):
    """Every GET of the schema on every real object (the ones whose metrics are undefined
    among them): a 200 whose body matches the schema; every failure listed at once."""
    # No GET is left out, and the sessions with undefined metrics are read.
    assert {path for path in GETS if _reads(path, real_reads)} == set(GETS)
    undefined = {ids["session_id"] for ids in real_reads["kept"][-2:]}
    metric_reads = _reads("/api/sessions/{session_id}/metrics/", real_reads)
    assert undefined <= {parameters["session_id"] for parameters, _ in metric_reads}

    failures, calls = [], 0
    for path in GETS:
        for path_parameters, query in _reads(path, real_reads):
            case = schema[path]["GET"].Case(path_parameters=path_parameters, query=query)
            calls += 1
            try:
                response = case.call_and_validate(
                    base_url=live_server.url,
                    headers={"Authorization": f"Token {operator_token}"},
                    checks=CHECKS,
                )
                assert response.status_code == 200, response.text[:300]
            except (AssertionError, FailureGroup) as error:  # one failed check, or several
                failures.append(f"GET {path} {path_parameters} {query}:\n{str(error)[:1500]}")

    assert not failures, f"{len(failures)} of {calls} reads outside the schema:\n\n" + "\n\n".join(failures)
