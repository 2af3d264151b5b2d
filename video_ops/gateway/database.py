"""One connection to the gateway's database, SQLite or PostgreSQL, behind plain DB-API calls.

The SQL is written once, with `?` placeholders and portable types (TEXT, INTEGER, DOUBLE PRECISION);
what differs between the two is kept here and nowhere else: how to connect, the placeholder style,
the row-lock clause that lets several instances claim rows without waiting on each other
(`FOR UPDATE SKIP LOCKED`: PostgreSQL only; SQLite has one writer at a time and one process per file),
and how to list the tables. Every statement commits on its own (autocommit), so no transaction is
ever held across an await.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(POSTGRES_SCHEMES)


def printable(target: str | Path) -> str:
    """The database named for a log line: a PostgreSQL URL without its password."""
    if not is_postgres(target):
        return str(target)
    from psycopg.conninfo import conninfo_to_dict  # the gateway extra's driver, loaded only for PostgreSQL

    params = conninfo_to_dict(str(target))
    return f"postgresql://{params.get('user', '')}@{params.get('host', '')}:{params.get('port', '')}/" \
           f"{params.get('dbname', '')}"


class Database:
    """`execute` for writes (the number of rows touched), `rows` for reads; both take `?` placeholders."""

    def __init__(self, target: str | Path) -> None:
        self.shared = is_postgres(target)  # several gateway instances may use it at once
        if self.shared:
            import psycopg

            self.connection: Any = psycopg.connect(str(target), autocommit=True)
            self.lock_rows = " FOR UPDATE SKIP LOCKED"
            self.begin = "BEGIN"
        else:
            path = Path(target)
            path.parent.mkdir(parents=True, exist_ok=True)
            self.connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self.connection.execute("PRAGMA journal_mode=WAL")
            self.connection.execute("PRAGMA busy_timeout=5000")
            # WAL with NORMAL: no fsync per commit (the event loop waits for every write), and a crash of the
            # process loses nothing; only a power cut can lose the last commits.
            self.connection.execute("PRAGMA synchronous=NORMAL")
            self.lock_rows = ""
            self.begin = "BEGIN IMMEDIATE"  # takes the write lock now: a second writer waits at BEGIN

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.shared else sql

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        cursor = self.connection.execute(self._sql(sql), tuple(params))
        return cursor.rowcount

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return list(self.connection.execute(self._sql(sql), tuple(params)).fetchall())

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Several statements as one, for schema upgrades; a second instance upgrading at once waits."""
        self.connection.execute(self.begin)
        try:
            yield
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def tables(self) -> set[str]:
        if self.shared:
            found = self.rows("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        else:
            found = self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {name for (name,) in found}

    def close(self) -> None:
        self.connection.close()
