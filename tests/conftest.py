"""Shared fixtures: one throwaway PostgreSQL server per test session, a fresh empty database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from thirdai_platform.migrate.server.ephemeral import EphemeralPostgres, start_server


@pytest.fixture(scope="session")
def pg_server() -> Iterator[EphemeralPostgres]:
    with start_server() as server:
        yield server


@pytest.fixture
def database_url(pg_server: EphemeralPostgres) -> Iterator[str]:
    """URL (with any password) of a new empty database, dropped after the test even if it left connections open."""
    url = pg_server.create_database()
    yield url.render_as_string(hide_password=False)
    pg_server.drop_database(url.database)
