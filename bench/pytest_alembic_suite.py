"""pytest-alembic's four default tests, driven without pytest's collection (0.13.1 crashes at collection on pytest 9).

Each test gets a fresh database, as the plugin's per-test alembic_engine fixture would give it. bench/run.py imports
run_default_tests for generated histories; bench/real_speed.py --pytest-alembic runs this file in a real history's
own venv, with pytest-alembic on PYTHONPATH only (see bench/run.py's docstring):

    PYTHONPATH=DIR:REPO python bench/pytest_alembic_suite.py --config alembic.ini [--from-dump FILE] URL URL URL URL

one database per test, in order, the dump (if any) restored into it first. It prints JSON ("tests"): per test its
seconds and "passed", "failed" (the exception's message) or "cannot run" (its database could not be made ready, or
the test needs what the project does not give, as an autogenerate without target_metadata).
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from pathlib import Path

import alembic.config
import pytest_alembic
from alembic.util import CommandError
from pytest_alembic.config import Config
from pytest_alembic.plugin.error import AlembicTestFailure
from pytest_alembic.tests.default import (
    test_model_definitions_match_ddl,
    test_single_head_revision,
    test_up_down_consistency,
    test_upgrade,
)
from sqlalchemy import create_engine, pool
from sqlalchemy.engine import URL, make_url

from thirdai_platform.errors import UserError
from thirdai_platform.migrate.session import their_url
from thirdai_platform.migrate.walk.dump import restore_dump

DEFAULT_TESTS = (test_single_head_revision, test_upgrade, test_model_definitions_match_ddl, test_up_down_consistency)


def run_default_tests(ini: str, new_database: Callable[[], URL]) -> dict[str, float]:
    """Seconds per test; a failing test raises, as it would fail the pytest run."""
    seconds = {}
    for test in DEFAULT_TESTS:
        url = new_database()
        started = time.perf_counter()
        run_test(alembic.config.Config(ini), test, url)
        seconds[test.__name__] = time.perf_counter() - started
    return seconds


def run_test(config: alembic.config.Config, test: Callable, url: URL) -> None:
    """One test on the database at url, as the plugin's alembic_runner fixture would run it."""
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with pytest_alembic.runner(Config.from_raw_config(config), engine) as alembic_runner:
            test(alembic_runner)
    finally:
        engine.dispose()


def outcome(ini: Path, test: Callable, url: URL, dump: Path | None) -> dict:
    """One test of a real history on its own database: its seconds (the restore of the dump not counted), "result"
    and "message". Its env.py connects to sqlalchemy.url, as the CLI's --url hands it ours."""
    config = alembic.config.Config(str(ini))
    try:
        if dump:
            restore_dump(dump, url)
        url = their_url(config, url)
    except UserError as error:
        return {"seconds": None, "result": "cannot run", "message": str(error)}
    config.set_main_option("sqlalchemy.url", url.render_as_string(hide_password=False).replace("%", "%%"))
    started = time.perf_counter()
    try:
        run_test(config, test, url)
    except Exception as error:  # noqa: BLE001 (any exception of a test is its result, as pytest reports it)
        return {"seconds": time.perf_counter() - started, **judged(error)}
    return {"seconds": time.perf_counter() - started, "result": "passed", "message": ""}


def judged(error: Exception) -> dict:
    """A test's exception: "cannot run" when it needs a target_metadata the project's env.py does not give, else
    "failed" with the message, its first line saying what failed where (an AlembicTestFailure's context: the
    failing revision and Alembic's error, each by its first line)."""
    # pytest-alembic re-raises alembic's CommandError as a RuntimeError.
    if isinstance(error, RuntimeError | CommandError) and "does not provide a MetaData object" in str(error):
        return {"result": "cannot run", "message": f"no target_metadata in env.py: {error}"}
    if isinstance(error, AlembicTestFailure):
        where = [body.strip().splitlines()[0] for _, body in error.context or () if body.strip()]
        headline = error.args[0] + (f" ({': '.join(where)})" if where else "")
        return {"result": "failed", "message": f"{headline}\n{error}"}
    return {"result": "failed", "message": f"{type(error).__name__}: {error}"}


def main() -> None:
    arguments = argparse.ArgumentParser(description="pytest-alembic's default tests on a real history.")
    arguments.add_argument("--config", type=Path, required=True)
    arguments.add_argument("--from-dump", type=Path)
    arguments.add_argument("urls", nargs=len(DEFAULT_TESTS), help="one fresh database per test, in order")
    args = arguments.parse_args()
    results = {
        test.__name__: outcome(args.config.resolve(), test, make_url(url), args.from_dump)
        for test, url in zip(DEFAULT_TESTS, args.urls)
    }
    print(json.dumps({"tests": results}))


if __name__ == "__main__":
    main()
