"""pytest-alembic's four default tests, driven without pytest's collection (0.13.1 crashes at collection on pytest 9).

Each test gets a fresh database, as the plugin's per-test alembic_engine fixture would give it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import alembic.config
import pytest_alembic
from pytest_alembic.config import Config
from pytest_alembic.tests.default import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL

DEFAULT_TESTS = (test_single_head_revision, test_upgrade, test_model_definitions_match_ddl, test_up_down_consistency)


def run_default_tests(ini: str, new_database: Callable[[], URL]) -> dict[str, float]:
    """Seconds per test; a failing test raises, as it would fail the pytest run."""
    seconds = {}
    for test in DEFAULT_TESTS:
        engine = create_engine(new_database(), poolclass=pool.NullPool)
        started = time.perf_counter()
        try:
            with pytest_alembic.runner(Config.from_raw_config(alembic.config.Config(ini)), engine) as alembic_runner:
                test(alembic_runner)
        finally:
            engine.dispose()
        seconds[test.__name__] = time.perf_counter() - started
    return seconds
