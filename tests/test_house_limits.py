"""House limits a reader relies on: modules small enough to read whole, functions short enough to
hold in mind, and comments that point only at documents a reader of the repository has.

- No module of the project's packages over MAX_MODULE_LINES lines, no function (or method) over
  MAX_FUNCTION_LINES lines, decorators and docstring included.
- No comment, docstring or template note cites the product spec or the design seeds: those live
  outside the repository. Code points at docs/ instead (docs/architecture.md, docs/engine.md,
  docs/operations.md).

Both rules are checked on synthetic sources too, so the checks themselves can fail.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "sessions_app", "strategies_app", "bots")
MAX_MODULE_LINES = 450
MAX_FUNCTION_LINES = 80

# "SPEC §18", "SPEC.md", "seed 2", "seed §5", "the seed's list envelope", "seeds/".
OUTSIDE_CITATION = re.compile(r"\bSPEC(\.md)?\b|\b[Ss]eeds?\b[\s-]*(§|\d|'s\b|/)|\b[Tt]he seed\b")
CITATION_SCAN = (
    "config",
    "sessions_app",
    "strategies_app",
    "bots",
    "templates",
    "static/js",
    "static/css",
    "tests",
    "bench",
    "bin",
)
CITATION_SUFFIXES = {".py", ".html", ".js", ".css", ".sh", ""}


def source_files(packages=PACKAGES):
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def oversized(source: str, name: str) -> list[str]:
    """What in `source` is over the limits: the module itself, and each too long function."""
    found = []
    lines = len(source.splitlines())
    if lines > MAX_MODULE_LINES:
        found.append(f"{name}: {lines} lines (at most {MAX_MODULE_LINES})")
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            start = min([node.lineno, *(d.lineno for d in node.decorator_list)])
            length = node.end_lineno - start + 1
            if length > MAX_FUNCTION_LINES:
                found.append(
                    f"{name}:{node.lineno} {node.name}(): {length} lines (at most {MAX_FUNCTION_LINES})"
                )
    return found


def citations(text: str, name: str) -> list[str]:
    return [
        f"{name}:{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE_CITATION.search(line)
    ]


def test_no_module_or_function_is_over_the_limits():
    found = [
        item for path in source_files() for item in oversized(path.read_text(), str(path.relative_to(ROOT)))
    ]
    assert not found, "Split these (docs/architecture.md says where things go):\n" + "\n".join(found)


def test_no_comment_cites_a_document_outside_the_repository():
    found = []
    for folder in CITATION_SCAN:
        for path in sorted((ROOT / folder).rglob("*")):
            if path.is_file() and path.suffix in CITATION_SUFFIXES and "node_modules" not in path.parts:
                if path.resolve() == Path(__file__).resolve():
                    continue
                found += citations(path.read_text(errors="replace"), str(path.relative_to(ROOT)))
    assert not found, "Point at docs/ instead:\n" + "\n".join(found)


# --- the checks themselves ----------------------------------------------------------------------


def test_the_size_check_finds_a_long_module_and_a_long_function():
    long_function = "def f():\n" + "    x = 1\n" * MAX_FUNCTION_LINES
    long_module = "x = 1\n" * (MAX_MODULE_LINES + 1)
    decorated = "@decorator\n" + "def g():\n" + "    x = 1\n" * (MAX_FUNCTION_LINES - 1)
    assert oversized(long_function, "a.py") == [f"a.py:1 f(): {MAX_FUNCTION_LINES + 1} lines (at most 80)"]
    assert oversized(long_module, "b.py") == [f"b.py: {MAX_MODULE_LINES + 1} lines (at most 450)"]
    assert len(oversized(decorated, "c.py")) == 1
    assert oversized("def h():\n    return 1\n", "d.py") == []


@pytest.mark.parametrize(
    "line",
    [
        "# refused (SPEC §25)",
        '"""Runs (seed 2) at scale."""',
        "# the seed's list envelope",
        "see SPEC.md",
        "{# seeds/ #}",
    ],
)
def test_the_citation_check_finds_a_citation(line):
    assert citations(line, "x.py")


@pytest.mark.parametrize(
    "line",
    [
        "SPECTACULAR_SETTINGS = {}",
        "random.seed(7)",
        "# seeded markets",
        "rng = seed_sequence(3)",
        "# docs/engine.md",
    ],
)
def test_the_citation_check_leaves_ordinary_words_alone(line):
    assert not citations(line, "x.py")
