"""SQLite's planner statistics (polls/planner.py): kept after imports, never waited for."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest
from django.db import connection

from polls import planner
from polls.imports import import_file
from polls.loading import PollFields

pytestmark = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite's own statistics")
DATA = Path(__file__).resolve().parent.parent / "data"


def _analyzed_tables() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return set()
        cursor.execute("SELECT tbl FROM sqlite_stat1 WHERE stat NOT LIKE '0%'")
        return {table for (table,) in cursor.fetchall()}


@pytest.mark.django_db(transaction=True)
def test_an_import_leaves_statistics_for_the_tables_it_wrote(project):
    data = (DATA / "qualtrics_numeric.csv").read_bytes()
    import_file(project, data, "qualtrics_numeric.csv", PollFields(title="Poll"))
    assert {"polls_respondent", "polls_answer"} <= _analyzed_tables()


@pytest.mark.django_db(transaction=True)
def test_a_database_another_connection_is_writing_is_not_waited_for():
    other = sqlite3.connect(connection.settings_dict["NAME"])
    other.execute("BEGIN IMMEDIATE")  # an import, say, holding the write lock
    try:
        start = time.perf_counter()
        planner.refresh(connection)
        assert time.perf_counter() - start < 1  # not the 20 s busy timeout
    finally:
        other.rollback()
        other.close()
    (timeout,) = connection.connection.execute("PRAGMA busy_timeout").fetchone()
    assert timeout == 20_000  # restored for every other statement
