"""Throwaway PostgreSQL databases for the tests: one migrated template, then a fresh copy per test.

`WUZHA_TEST_POSTGRES` names a server the tests may create databases on (for example
`postgresql://postgres@/postgres?host=/tmp/pg&port=5432`); `.ci/run` starts one. Without it the
PostgreSQL half of the suite is not collected.
"""

from __future__ import annotations

import asyncio
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

SERVER_URL = os.environ.get("WUZHA_TEST_POSTGRES", "")


def database_url(name: str) -> str:
    """The server's URL with another database name."""
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql)


class TemplateDatabases:
    """One migrated database per test run, emptied before each test (TRUNCATE is ten times faster than a copy)."""

    def __init__(self) -> None:
        self.name = f"wuzha_test_{os.getpid()}"
        self.url = database_url(self.name)
        self._tables = ""

    def create_template(self) -> None:
        """Make the run's database and apply every migration to it."""
        from storage.postgres import PostgresDatabase

        _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{self.name}"')

        async def migrate() -> None:
            db = await PostgresDatabase(self.url, pool_size=1).open()
            await db.close()
        asyncio.run(migrate())
        with psycopg.connect(self.url, autocommit=True) as conn:
            rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
                                " AND tablename <> 'schema_migrations'").fetchall()
        self._tables = ", ".join(f'"{name}"' for (name,) in rows)

    def fresh(self) -> str:
        """The run's database with every table emptied and every id counter reset; its URL."""
        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f"TRUNCATE {self._tables} RESTART IDENTITY CASCADE")
        return self.url

    def drop(self, url: str) -> None:
        """Nothing to do: the next test empties the database itself."""

    def drop_all(self) -> None:
        """Drop the run's database."""
        _admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
