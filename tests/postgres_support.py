"""Throwaway PostgreSQL databases for the tests: one migrated template, then a fresh copy per test.

`WUZHA_TEST_POSTGRES` names a server the tests may create databases on (for example
`postgresql://postgres@/postgres?host=/tmp/pg&port=5432`); `.ci/run` starts one. Without it the
PostgreSQL half of the suite is not collected.
"""

from __future__ import annotations

import asyncio
import itertools
import os
from urllib.parse import urlsplit, urlunsplit

import psycopg

SERVER_URL = os.environ.get("WUZHA_TEST_POSTGRES", "")
_counter = itertools.count(1)


def database_url(name: str) -> str:
    """The server's URL with another database name."""
    parts = urlsplit(SERVER_URL)
    return urlunsplit(parts._replace(path=f"/{name}"))


def _admin(sql: str) -> None:
    with psycopg.connect(SERVER_URL, autocommit=True) as conn:
        conn.execute(sql)


class TemplateDatabases:
    """A migrated template made once per test run, copied for each test and dropped after it."""

    def __init__(self) -> None:
        self.prefix = f"wuzha_test_{os.getpid()}"
        self.template = f"{self.prefix}_template"
        self.made: list[str] = []

    def create_template(self) -> None:
        """Make the template and apply every migration to it."""
        from storage.postgres import PostgresDatabase

        _admin(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{self.template}"')

        async def migrate() -> None:
            db = await PostgresDatabase(database_url(self.template), pool_size=1).open()
            await db.close()
        asyncio.run(migrate())

    def fresh(self) -> str:
        """A new database copied from the template; its URL."""
        name = f"{self.prefix}_{next(_counter)}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{self.template}" STRATEGY FILE_COPY')
        self.made.append(name)
        return database_url(name)

    def drop(self, url: str) -> None:
        """Drop one test's database, cutting off any connection a test left open."""
        name = urlsplit(url).path.lstrip("/")
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if name in self.made:
            self.made.remove(name)

    def drop_all(self) -> None:
        """Drop what is left, the template included."""
        for name in [*self.made, self.template]:
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.made.clear()
