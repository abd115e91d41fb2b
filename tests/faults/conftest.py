"""Fault tests: each starts what it breaks (a Redis, a MariaDB, worker processes) on ports of
its own. The outage and resume times they measure are printed in the terminal summary."""

from __future__ import annotations

import pytest

MEASURED: list[str] = []


@pytest.fixture
def measured():
    """Append a line ("what: 1.2 s") to the run's summary of fault timings."""
    return MEASURED.append


def pytest_terminal_summary(terminalreporter):
    if MEASURED:
        terminalreporter.section("fault tests: measured outage and resume times (under this machine's load)")
        for line in MEASURED:
            terminalreporter.write_line(line)
