"""Consistent backups of a live database, and restoring them.

SQLite: the online backup API copies the database page by page while others
keep writing, and the copy is one consistent snapshot. PostgreSQL: pg_dump in
its custom format (a consistent snapshot of one transaction) and pg_restore
--clean. Both run through the `backup` and `restore` commands.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from contextlib import closing
from pathlib import Path

from django.db import connection


class BackupError(Exception):
    pass


def backup(out: Path) -> None:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        with closing(sqlite3.connect(out)) as target:
            connection.connection.backup(target)
    elif connection.vendor == "postgresql":
        _run(["pg_dump", "--format=custom", f"--file={out}"])
    else:
        raise BackupError(f"backups of {connection.vendor} databases are not supported")


def restore(source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source}: no such file")
    if connection.vendor == "sqlite":
        _check_sqlite(source)
        connection.ensure_connection()
        with closing(sqlite3.connect(source)) as saved:
            saved.backup(connection.connection)
    elif connection.vendor == "postgresql":
        if source.read_bytes()[:5] != b"PGDMP":
            raise BackupError(f"{source}: not a Verbatim backup (not a pg_dump archive)")
        _run(
            [
                "pg_restore",
                "--clean",
                "--if-exists",
                "--no-owner",
                f"--dbname={_dbname()}",
                str(source),
            ]
        )
    else:
        raise BackupError(f"restoring {connection.vendor} databases is not supported")


def _check_sqlite(source: Path) -> None:
    """Refuse a file that is not a Verbatim SQLite backup before touching the database."""
    try:
        with closing(sqlite3.connect(f"file:{source}?mode=ro", uri=True)) as db:
            tables = {row[0] for row in db.execute("select name from sqlite_master")}
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{source}: not a Verbatim backup (not a SQLite database: {e})") from e
    if "polls_project" not in tables:
        raise BackupError(f"{source}: not a Verbatim backup (it has no projects table)")


def _environment() -> dict[str, str]:
    settings = dict(connection.settings_dict)
    # dj-database-url leaves a socket directory (?host=/path) in OPTIONS.
    settings["HOST"] = settings.get("HOST") or settings.get("OPTIONS", {}).get("host", "")
    env = dict(os.environ)
    for key, name in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"),
                      ("PASSWORD", "PGPASSWORD"), ("NAME", "PGDATABASE")):  # fmt: skip
        if settings.get(key):
            env[name] = str(settings[key])
    return env


def _dbname() -> str:
    return str(connection.settings_dict["NAME"])


def _run(command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        raise BackupError(
            f"{command[0]} is not installed (Debian: apt-get install postgresql-client)"
        )
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True)
    if done.returncode:
        raise BackupError(f"{command[0]} failed: {done.stderr.strip()}")
