"""Another process holding the database's write lock past the busy timeout, on either engine."""

from __future__ import annotations

import sqlite3

import psycopg


def hold_the_write_lock(app):
    """Take every table's write lock from outside the app, as a stalled process would; reads still go on.

    SQLite: BEGIN IMMEDIATE on another connection. PostgreSQL: a transaction holding every table in
    SHARE mode (writes wait, reads do not) and the serial writers' advisory lock.
    """
    if not app.config.uses_postgres:
        holder = sqlite3.connect(app.config.database_path, isolation_level=None, timeout=0.1)
        holder.execute("BEGIN IMMEDIATE")
        return holder
    from storage.postgres import WRITE_LOCK

    holder = psycopg.connect(app.config.database_target, autocommit=True)
    tables = [row[0] for row in holder.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")]
    holder.execute("BEGIN")
    holder.execute("SELECT pg_advisory_xact_lock(%s)", (WRITE_LOCK,))
    holder.execute("LOCK TABLE " + ", ".join(f'"{name}"' for name in tables) + " IN SHARE MODE")
    return holder


def let_go(holder) -> None:
    """End the outside transaction and close its connection."""
    holder.execute("ROLLBACK")
    holder.close()
