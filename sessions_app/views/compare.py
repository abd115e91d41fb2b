"""Compare: 2 to 8 runs side by side (`?runs=<run id>,...`), or picked sessions' best runs
(`?sessions=<session id>,...`, from History): their metrics in one table, their equity curves
overlaid in one chart."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.shortcuts import render
from django.views.decorators.http import require_GET

from sessions_app import selectors
from sessions_app.errors import ServiceError
from sessions_app.query import COMPARE_MAX, COMPARE_MIN, compare_ids
from sessions_app.selectors import ComparedRun
from sessions_app.templatetags.dashboard import decimals_for, series_colour
from sessions_app.views.htmx import base_context


def _picked(request: HttpRequest, field: str) -> str:
    """`?runs=1,2` as typed, or `?runs=1&runs=2` as a form's checkboxes send it (after the
    form's empty field, there so that nothing ticked still names what is missing)."""
    return ",".join(value for value in request.GET.getlist(field) if value)


def _run_ids(request: HttpRequest) -> list[int]:
    """The runs of the URL: `runs` named, or each of `sessions`' best run."""
    if "runs" in request.GET or "sessions" not in request.GET:
        return list(compare_ids(_picked(request, "runs"), "runs", whole_numbers=True))
    session_ids = compare_ids(_picked(request, "sessions"), "sessions", whole_numbers=False)
    return selectors.compare_best_run_ids(session_ids=session_ids)


def _label(compared: ComparedRun) -> str:
    return f"{compared.session.name or compared.session.pk} · {compared.run.config_hash}"


def _columns(compared: list[ComparedRun]) -> list[dict[str, Any]]:
    return [
        {"c": c, "label": _label(c), "metrics": c.metrics, "currency": c.currency, "series": k}
        for k, c in enumerate(compared)
    ]


@require_GET
def compare(request):
    context: dict[str, Any] = {
        **base_context(request, "compare"),
        "compare_min": COMPARE_MIN,
        "compare_max": COMPARE_MAX,
    }
    try:
        compared = selectors.compare_runs(run_ids=_run_ids(request))
    except ServiceError as error:
        # Bad or unknown ids: the page says which, with the status the API would give.
        context["error"] = error.message
        return render(request, "sessions/compare.html", context, status=error.status)
    columns = _columns(compared)
    currencies = {column["currency"] or "" for column in columns}
    # Curves in different currencies share no scale: each is drawn as its return from its start.
    as_return = len(currencies) > 1
    context["columns"] = columns
    context["as_return"] = as_return
    context["chart_unit"] = "percent return from start" if as_return else f"in {currencies.pop()}"
    context["chart_title"] = (
        f"Equity curves, {context['chart_unit']}" if as_return else f"Equity curves {context['chart_unit']}"
    )
    context["series"] = [
        {
            "label": column["label"],
            "points": column["c"].equity,
            "currency": column["currency"],
            "colour": series_colour(column["series"]),
            "precision": decimals_for(column["currency"]),
        }
        for column in columns
    ]
    return render(request, "sessions/compare.html", context)
