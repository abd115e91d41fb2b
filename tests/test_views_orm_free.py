"""The dashboard's views and the API's views read through the selectors: no ORM query in them."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest
from django.db import models

ROOT = Path(__file__).resolve().parent.parent
CHECKED = sorted(
    [
        *(ROOT / "sessions_app" / "views").glob("*.py"),
        # Every API module but the routes: the views live in their resource's module.
        *(path for path in (ROOT / "sessions_app" / "api").glob("*.py") if not path.name.endswith("urls.py")),
    ]
)
# Querysets and managers: reached through these attributes (related managers included).
QUERY_ATTRIBUTES = {
    "objects",
    "filter",
    "exclude",
    "order_by",
    "values_list",
    "select_related",
    "prefetch_related",
    "annotate",
    "aggregate",
    "runs",
    "events",
    "trades",
    "clones",
}
SHORTCUTS = {"get_object_or_404", "get_list_or_404"}


def _model_names(module: str, names: set[str]) -> set[str]:
    """The names of `module` that are models: a view may import its choices and constants,
    and a model only under `if TYPE_CHECKING:` (for the type hints)."""
    imported = importlib.import_module(module)
    return {
        name
        for name in names
        if isinstance(getattr(imported, name, None), type)
        and issubclass(getattr(imported, name), models.Model)
    }


def _type_checking_imports(tree: ast.AST) -> set[int]:
    """ids of the import nodes under `if TYPE_CHECKING:`, there for the type hints only."""
    allowed = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING":
            allowed |= {id(child) for stmt in node.body for child in ast.walk(stmt)}
    return allowed


def orm_uses(source: str) -> list[str]:
    """What in `source` reaches the ORM, one line each (empty when nothing does)."""
    tree = ast.parse(source)
    hints_only = _type_checking_imports(tree)
    found = []
    for node in ast.walk(tree):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and node.attr in QUERY_ATTRIBUTES:
            found.append(f"{line}: .{node.attr}")
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr == "count" and not node.args:  # a queryset's count(), not list.count(x)
                found.append(f"{line}: .count()")
        elif isinstance(node, ast.Name) and node.id in SHORTCUTS:
            found.append(f"{line}: {node.id}")
        elif isinstance(node, ast.Import):
            found += [f"{line}: import {a.name}" for a in node.names if a.name.startswith("django.db")]
        elif isinstance(node, ast.ImportFrom) and id(node) not in hints_only:
            module = node.module or ""
            names = {a.name for a in node.names}
            if module.startswith("django.db") or names & SHORTCUTS:
                found.append(f"{line}: from {module} import {', '.join(sorted(names))}")
            elif module.endswith(".models") and (model_names := _model_names(module, names)):
                found.append(f"{line}: from {module} import {', '.join(sorted(model_names))}")
    return found


@pytest.mark.parametrize("path", CHECKED, ids=lambda p: str(p.relative_to(ROOT)))
def test_the_view_module_does_not_query_the_orm(path):
    assert orm_uses(path.read_text()) == []


def test_the_dashboard_views_are_all_checked():
    names = {p.name for p in CHECKED}
    assert {
        "htmx.py",
        "running.py",
        "scrapers.py",
        "history.py",
        "modal.py",
        "actions.py",
        "detail.py",
    } <= names


@pytest.mark.parametrize(
    "source",
    [
        "from sessions_app.models import Session\nSession.objects.filter(pk=1)",
        "from strategies_app.models import Market\n",
        "from django.shortcuts import get_object_or_404\n",
        "def view(session):\n    return session.runs.all()",
        "def view(rows):\n    return rows.count()",
        "def view(run):\n    return run.trades.order_by('id')",
        "from django.db.models import F\n",
    ],
)
def test_it_finds_a_query_written_in_a_view(source):
    assert orm_uses(source)


def test_it_lets_choices_and_type_hints_through():
    source = (
        "from typing import TYPE_CHECKING\n"
        "from sessions_app.models import FINISHED, SessionType, Status\n"
        "if TYPE_CHECKING:\n"
        "    from sessions_app.models import Run, Session\n"
        "def view(items):\n"
        "    return items.count('x'), SessionType.values\n"
    )
    assert orm_uses(source) == []
