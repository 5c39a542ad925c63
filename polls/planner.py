"""Statistics for SQLite's query planner, which has no autovacuum to keep them.

Without them SQLite guesses that an equality on an indexed column finds ten
rows: a question's 100,000 answers look smaller than its three quotes, and the
report's quotes query walked every answer (20 ms against 1). ANALYZE, reading
at most a thousand rows per index, takes a few milliseconds on a database of
half a gigabyte, so it runs whenever a connection opens (each app server's
connections live ten minutes: CONN_MAX_AGE) and after every import.
"""

from __future__ import annotations

import sqlite3

ROWS_PER_INDEX = 1000  # PRAGMA analysis_limit: approximate, and quick at any size


def refresh(connection) -> None:
    """ANALYZE a SQLite database, unless another connection is writing right now (its
    turn comes with the next connection); nothing elsewhere (PostgreSQL has autovacuum)."""
    if connection.vendor != "sqlite":
        return
    connection.ensure_connection()
    raw = connection.connection
    (timeout,) = raw.execute("PRAGMA busy_timeout").fetchone()
    try:
        # Never wait for a running import: reads in WAL mode would not have to.
        raw.execute("PRAGMA busy_timeout = 0")
        raw.execute(f"PRAGMA analysis_limit = {ROWS_PER_INDEX}")
        raw.execute("ANALYZE")
    except sqlite3.OperationalError:
        pass  # locked, or a read-only copy: the planner guesses, as it did
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(timeout)}")


def on_connect(sender, connection, **kwargs) -> None:
    if not connection.in_atomic_block:
        refresh(connection)
