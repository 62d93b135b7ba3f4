"""Shared test set-up: every test gets its own data dir; CI runs every test.

Fixtures live in one plugin module per area (fixtures_*.py beside this file)
so that each area's helpers stay with the code they exercise.
"""

import os

import pytest

pytest_plugins = [
    "fixtures_server",
    "fixtures_client",
    "fixtures_search",
    "fixtures_analytics",
]


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path, monkeypatch):
    """Point CHATKIT_DATA_DIR at a fresh folder so no test touches ./data."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("CHATKIT_DATA_DIR", str(data))
    monkeypatch.delenv("CHATKIT_TZ", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    return data


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI a skipped test is a failed test: everything must run there."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("CHATKIT_REQUIRE_ALL_TESTS") and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, where every test must run: {report.longrepr}"
