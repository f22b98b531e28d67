"""PostgreSQL fixtures of the store tests: one real server per session, a fresh database per test."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from postgres_server import PostgresServer, started_server

from vgsum.runtime.store.postgres import PostgresTarget


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    """A real PostgreSQL server (initdb + pg_ctl) on a free port; skipped without the binaries unless CI is set."""
    server = started_server()
    yield server
    server.close()


@pytest.fixture
def pg_target(pg_server: PostgresServer) -> PostgresTarget:
    """An empty database of the session's server, as the store opens it (trust login, no password)."""
    return PostgresTarget(pg_server.url(pg_server.new_database()))


@pytest.fixture
def own_pg_server() -> Iterator[PostgresServer]:
    """A server of the test's own, for tests that stop and restart it."""
    server = started_server()
    yield server
    server.close()
