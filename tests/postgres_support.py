"""The PostgreSQL database of a test run: migrated once, emptied before each test.

`WUZHA_TEST_POSTGRES` names a server the tests may create databases on (for example
`postgresql://postgres@/postgres?host=/tmp/pg&port=5432`); `.ci/run` starts one. Without it the
PostgreSQL half of the suite is not collected.
"""

from __future__ import annotations

import asyncio
import os

import psycopg

from storage.postgres import PostgresDatabase

SERVER_URL = os.environ.get("WUZHA_TEST_POSTGRES", "")


class RunDatabase:
    """The run's database, migrated once and emptied before each test (TRUNCATE is ten times faster than a copy)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._tables = ""

    def migrate(self) -> None:
        """Apply every migration, and note the tables to empty."""
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
