"""The project's import graph: no cycle, the dependency direction, imports at the top.

Every .py of the project's packages is parsed with `ast` (nothing is imported), so the check
sees imports inside functions too: a cycle hidden in a function is still a cycle.

- Edges: `import a.b` is an edge to a.b; `from a import b` to a.b when that is a module, else
  to a. A package's `__init__` is a module like the others, so its re-exports are its edges;
  and importing a.b from outside the package a is an edge to a as well (Python runs a first).
  Imports under `if TYPE_CHECKING:` never run and are not edges.
- Direction: bots <- strategies_app <- sessions_app. The engine knows no Django and none of
  the apps; strategies_app knows nothing of sessions_app.
- The JSON API (sessions_app.api) is a front end, like the dashboard's views: nothing outside it
  imports it, and it imports nothing of the views. The views, config/ and the layers below
  (selectors, services, the shapes, the query helpers, the error envelope and handlers) share
  what lies below both front ends.
  config/settings.py names DRF's classes in api/ as strings (DRF configuration), and config/urls.py
  includes the API's routes by name: neither is an import.
- Imports sit at the top of the module, not in function bodies.
"""

from __future__ import annotations

import ast
import textwrap
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "sessions_app", "strategies_app", "bots")

# (importing module, imported name) -> why the import has to stay inside a function.
FUNCTION_IMPORTS_ALLOWED: dict[tuple[str, str], str] = {
    # An app's apps.py is imported while Django is still loading the apps, before any model
    # may be imported; strategies_app.services imports the models, so the post_migrate
    # handler can only import it once it is called.
    ("strategies_app.apps", "strategies_app.services"): "AppConfig modules load before the models",
}

# What a package may not import, by the first part of the imported name.
FORBIDDEN = {
    "bots": ("django", "config", "sessions_app", "strategies_app"),
    "strategies_app": ("sessions_app",),
}


# The front end no other module may import, and the modules its rule is about first of all; the
# other front end, which the API does not import either.
API = "sessions_app.api"
KEPT_FROM_THE_API = ("sessions_app.views", "config")
VIEWS = "sessions_app.views"


@dataclass(frozen=True)
class ImportStatement:
    module: str  # the importing module
    target: str  # the imported name, resolved as far as the project's modules allow
    line: int
    in_function: bool
    type_checking: bool


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    """Dotted name -> file for every .py of the packages (a package is its __init__.py)."""
    names = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            names[".".join(parts)] = path
    return names


def _resolve(base: str, name: str | None, modules: dict[str, Path]) -> str:
    """`from base import name`: the submodule base.name when there is one, else base."""
    if name and f"{base}.{name}" in modules:
        return f"{base}.{name}"
    return base


def _relative_base(module: str, is_package: bool, level: int, name: str | None) -> str:
    parts = module.split(".")
    if not is_package:
        parts = parts[:-1]
    parts = parts[: len(parts) - (level - 1)] if level > 1 else parts
    return ".".join([*parts, *([name] if name else [])])


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_package: bool, modules: dict[str, Path]):
        self.module, self.is_package, self.modules = module, is_package, modules
        self.statements: list[ImportStatement] = []
        self._functions = 0
        self._type_checking = 0

    def _visit_function(self, node: ast.AST) -> None:
        self._functions += 1
        self.generic_visit(node)
        self._functions -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _visit_function

    def visit_If(self, node: ast.If) -> None:
        test = node.test
        is_type_checking = (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
            isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
        )
        if not is_type_checking:
            self.generic_visit(node)
            return
        self._type_checking += 1
        for child in node.body:
            self.visit(child)
        self._type_checking -= 1
        for child in node.orelse:
            self.visit(child)

    def _add(self, target: str, node: ast.AST) -> None:
        self.statements.append(
            ImportStatement(self.module, target, node.lineno, self._functions > 0, self._type_checking > 0)
        )

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add(alias.name, node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            base = _relative_base(self.module, self.is_package, node.level, node.module)
        else:
            base = node.module or ""
        for alias in node.names:
            self._add(_resolve(base, None if alias.name == "*" else alias.name, self.modules), node)


def import_statements(root: Path, packages: tuple[str, ...]) -> list[ImportStatement]:
    modules = module_names(root, packages)
    statements = []
    for module, path in modules.items():
        collector = _Collector(module, path.name == "__init__.py", modules)
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), filename=str(path)))
        statements.extend(collector.statements)
    return statements


def _project_module(target: str, modules: dict[str, Path]) -> str | None:
    """The project module an import runs: the longest prefix of the name that is one."""
    parts = target.split(".")
    for end in range(len(parts), 0, -1):
        name = ".".join(parts[:end])
        if name in modules:
            return name
    return None


def import_graph(root: Path, packages: tuple[str, ...]) -> dict[str, set[str]]:
    modules = module_names(root, packages)
    graph: dict[str, set[str]] = {module: set() for module in modules}
    for statement in import_statements(root, packages):
        target = _project_module(statement.target, modules)
        if target is None or statement.type_checking:
            continue
        # Python runs a module's packages first: importing a.b.c from outside a.b runs a.b's
        # __init__ too, and whatever it imports. From inside a.b, a.b is already under way.
        parts = target.split(".")
        for package in (".".join(parts[:end]) for end in range(1, len(parts) + 1)):
            inside = statement.module == package or statement.module.startswith(f"{package}.")
            if package in modules and not inside:
                graph[statement.module].add(package)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle (a -> b -> ... -> a) per strongly connected component of more than one
    module (Tarjan's algorithm, iterative so a deep graph does not hit the recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[set[str]] = []
    counter = 0
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(sorted(graph[start])))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is None:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = set()
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.add(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        components.append(component)
            elif child not in index:
                index[child] = low[child] = counter
                counter += 1
                stack.append(child)
                on_stack.add(child)
                work.append((child, iter(sorted(graph[child]))))
            elif child in on_stack:
                low[node] = min(low[node], index[child])
    return [_cycle_in(graph, component) for component in components]


def _cycle_in(graph: dict[str, set[str]], component: set[str]) -> list[str]:
    """A shortest way from the component's first module back to itself (breadth first)."""
    start = min(component)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node] & component):
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [*reversed(path), start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    raise AssertionError(f"no cycle in {component}")  # Tarjan said there was one


def forbidden_imports(statements: list[ImportStatement]) -> list[str]:
    found = []
    for statement in statements:
        package = statement.module.split(".")[0]
        if statement.target.split(".")[0] in FORBIDDEN.get(package, ()):
            found.append(f"{statement.module}:{statement.line} imports {statement.target}")
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(f"{package}.")


def api_imports(statements: list[ImportStatement]) -> list[str]:
    """Imports of the API (sessions_app.api or any module of it) from outside it, and of the
    views from the API, type hints included: a view or config/ knowing an API module is the
    shared kernel coming back."""
    return [
        f"{s.module}:{s.line} imports {s.target}"
        for s in statements
        if (_within(s.target, API) and not _within(s.module, API))
        or (_within(s.module, API) and _within(s.target, VIEWS))
    ]


def function_imports(statements: list[ImportStatement], allowed: dict[tuple[str, str], str]) -> list[str]:
    found = [
        f"{s.module}:{s.line} imports {s.target} inside a function"
        for s in statements
        if s.in_function and not s.type_checking and (s.module, s.target) not in allowed
    ]
    return list(dict.fromkeys(found))


# --- the project --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def statements() -> list[ImportStatement]:
    return import_statements(ROOT, PACKAGES)


def test_no_module_imports_itself_back():
    graph = import_graph(ROOT, PACKAGES)
    found = cycles(graph)
    assert not found, "Import cycles (one per tangle of modules; each of them must be broken):\n" + "\n".join(
        " -> ".join(cycle) for cycle in found
    )


def test_the_engine_imports_no_django_and_no_app(statements):
    found = [line for line in forbidden_imports(statements) if line.startswith("bots")]
    assert not found, "\n".join(found)


def test_strategies_app_imports_nothing_of_sessions_app(statements):
    found = [line for line in forbidden_imports(statements) if line.startswith("strategies_app")]
    assert not found, "\n".join(found)


def test_no_view_and_no_config_module_imports_the_api(statements):
    found = [line for line in api_imports(statements) if line.startswith(KEPT_FROM_THE_API)]
    assert not found, "Import from below both front ends instead:\n" + "\n".join(found)


def test_nothing_outside_the_api_imports_it_and_it_imports_no_view(statements):
    found = api_imports(statements)
    assert not found, "Import from below both front ends instead:\n" + "\n".join(found)


def test_imports_are_at_the_top_of_the_module(statements):
    found = function_imports(statements, FUNCTION_IMPORTS_ALLOWED)
    assert not found, "\n".join(found)


def test_every_allowed_function_import_still_exists(statements):
    present = {(s.module, s.target) for s in statements if s.in_function}
    assert not set(FUNCTION_IMPORTS_ALLOWED) - present, "remove stale entries of FUNCTION_IMPORTS_ALLOWED"


# --- the checker itself: it must see what it is meant to see ------------------------------------


def _tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    return root


def test_the_checker_finds_a_cycle_hidden_in_a_function(tmp_path):
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/services/__init__.py": "from app.services.lifecycle import start\n",
            "app/services/lifecycle.py": "def start():\n    from app.tasks import run\n",
            "app/tasks.py": "from app import services\n",
        },
    )
    found = cycles(import_graph(root, ("app",)))
    assert found == [["app.services", "app.services.lifecycle", "app.tasks", "app.services"]]
    statements = import_statements(root, ("app",))
    assert function_imports(statements, {}) == [
        "app.services.lifecycle:2 imports app.tasks inside a function"
    ]


def test_the_checker_counts_the_package_an_import_runs(tmp_path):
    """Importing app.services.trades from app.tasks runs app/services/__init__.py first."""
    root = _tree(
        tmp_path,
        {
            "app/__init__.py": "",
            "app/services/__init__.py": "from app.services.lifecycle import start\n",
            "app/services/lifecycle.py": "import app.tasks\n",
            "app/services/trades.py": "from app.services.lifecycle import start\n",
            "app/tasks.py": "from app.services.trades import insert\n",
        },
    )
    graph = import_graph(root, ("app",))
    assert graph["app.tasks"] == {"app.services", "app.services.trades"}
    assert graph["app.services.trades"] == {"app.services.lifecycle"}  # its own package is under way
    assert cycles(graph) == [["app.services", "app.services.lifecycle", "app.tasks", "app.services"]]


def test_the_checker_resolves_relative_imports_and_ignores_type_checking(tmp_path):
    root = _tree(
        tmp_path,
        {
            "lib/__init__.py": "from . import a\n",
            "lib/a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from lib import b\n",
            "lib/b.py": "from .a import thing\nimport django.conf\n",
        },
    )
    assert import_graph(root, ("lib",)) == {"lib": {"lib.a"}, "lib.a": set(), "lib.b": {"lib.a"}}
    assert cycles(import_graph(root, ("lib",))) == []
    statements = import_statements(root, ("lib",))
    assert [(s.module, s.target) for s in statements if "django" in s.target] == [("lib.b", "django.conf")]


def test_the_checker_sees_a_forbidden_direction(tmp_path):
    root = _tree(tmp_path, {"bots/__init__.py": "", "bots/x.py": "def f():\n    import django\n"})
    assert forbidden_imports(import_statements(root, ("bots",))) == ["bots.x:2 imports django"]


def test_the_checker_sees_a_view_or_config_importing_the_api(tmp_path):
    root = _tree(
        tmp_path,
        {
            "config/__init__.py": "",
            "config/middleware.py": "def handle():\n    from sessions_app.api import errors\n",
            # The routes by name and DRF's settings are strings, not imports.
            "config/urls.py": 'ROUTES = "sessions_app.api.urls"\n',
            "sessions_app/__init__.py": "",
            "sessions_app/api/__init__.py": "",
            "sessions_app/api/cursors.py": "from sessions_app.errors import InvalidInput\n",
            "sessions_app/api/errors.py": "",
            "sessions_app/api/views.py": "from sessions_app.api import cursors\n",
            "sessions_app/api/compat.py": "from sessions_app.views.detail import page\n",
            "sessions_app/errors.py": "",
            "sessions_app/selectors.py": "from sessions_app.errors import InvalidInput\n",
            "sessions_app/views/__init__.py": "from sessions_app.views.detail import page\n",
            "sessions_app/views/compare.py": "from sessions_app import api, selectors\n",
            "sessions_app/views/detail.py": "from sessions_app.api.cursors import cursor_dumps\n",
            "sessions_app/views/history.py": (
                "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import sessions_app.api.views\n"
            ),
        },
    )
    statements = import_statements(root, ("config", "sessions_app"))
    assert api_imports(statements) == [
        "config.middleware:2 imports sessions_app.api.errors",
        "sessions_app.api.compat:1 imports sessions_app.views.detail",
        "sessions_app.views.compare:1 imports sessions_app.api",
        "sessions_app.views.detail:1 imports sessions_app.api.cursors",
        "sessions_app.views.history:3 imports sessions_app.api.views",
    ]
