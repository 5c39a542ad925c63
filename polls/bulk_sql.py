"""Plain INSERTs of many rows, for imports of 100,000 respondents.

bulk_create builds a model instance per row, which makes big imports several
times slower; these send the same statement with executemany. auto_now fields
are not filled in: pass their values.

`insert_many` and `Inserter` are quicker still, for the poll importer's
million answers: PostgreSQL takes the rows through COPY, and SQLite through
INSERTs of many rows each, on the driver's own cursor (one statement per row
costs SQLite more than the row). Neither goes through Django's cursor, so
nothing is logged per statement.
"""

from __future__ import annotations

import operator
import queue
import threading
from collections.abc import Iterable, Iterator, Sequence
from itertools import chain, islice, repeat

from django.db import connection

from polls.sql import insert_sql

BATCH = 5000
ROWS_PER_INSERT = 500  # SQLite: rows per INSERT … VALUES (…), (…); more gains nothing


def chunks(items: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_rows(model, fields: list[str], rows: Iterable, ignore_conflicts: bool = False) -> None:
    """INSERT rows (tuples in `fields` order); optionally skip rows a unique constraint holds."""
    sql = insert_sql(model, tuple(fields), ignore_conflicts)
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)


def insert_many(model, fields: list[str], rows: Iterable[Sequence]) -> None:
    """INSERT rows (tuples in `fields` order, "id" allowed) as fast as the database takes them.

    Values must be what the driver takes as they are: str, int, float, None
    (JSON as its text). Call it inside a transaction.
    """
    with Inserter() as insert:
        insert(model, fields, rows)


class Inserter:
    """insert_many for several tables in a row, the database's work overlapping ours.

        with Inserter() as insert:
            insert(Respondent, fields, rows)
            insert(Answer, fields, rows)

    On SQLite the statements run in a thread of their own: SQLite works
    without holding the interpreter's lock, so on two cores the request's
    thread prepares the next rows (or interprets the next question) meanwhile.
    Nothing else may use the connection inside the block. PostgreSQL works in
    its own process anyway: COPY goes straight to it.
    """

    QUEUED = 8  # statements waiting for the thread, at most
    THREADED = True

    def __init__(self):
        self.sqlite = connection.vendor == "sqlite"
        self.threaded = self.sqlite and self.THREADED
        self.failed: BaseException | None = None

    def __enter__(self) -> Inserter:
        if self.sqlite:
            import sqlite3

            connection.ensure_connection()
            self.raw = connection.connection
            self.limit = self.raw.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
        if self.threaded:
            self.queue: queue.Queue = queue.Queue(self.QUEUED)
            self.thread = threading.Thread(target=self._run, name="sqlite-insert", daemon=True)
            self.thread.start()
        return self

    def __call__(
        self, model, fields: list[str], rows: Iterable[Sequence], fixed: dict | None = None
    ) -> None:
        """Insert rows of `fields`; `fixed` gives fields whose value is the same in every row
        (SQLite then reads it from the statement: fewer values to bind)."""
        meta, quote = model._meta, connection.ops.quote_name
        table = quote(meta.db_table)
        fixed = fixed or {}
        columns = ", ".join(quote(meta.get_field(f).column) for f in [*fields, *fixed])
        if fixed and not self.sqlite:
            rows = map(operator.add, map(tuple, rows), repeat(tuple(fixed.values())))
            fields = [*fields, *fixed]
        literals = [_literal(v) for v in fixed.values()] if self.sqlite else []
        if connection.vendor == "postgresql":
            # The driver's own cursor: its errors become Django's here, as with any query.
            with (
                connection.cursor() as cursor,
                connection.wrap_database_errors,
                cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
            ):
                write = copy.write_row
                for row in rows:
                    write(row)
        elif self.threaded:
            for statement in _sqlite_statements(table, columns, fields, literals, rows, self.limit):
                if self.failed is not None:
                    break  # the thread stopped; __exit__ says why
                self.queue.put(statement)
        elif self.sqlite:
            cursor = self.raw.cursor()
            try:
                with connection.wrap_database_errors:
                    for statement in _sqlite_statements(
                        table, columns, fields, literals, rows, self.limit
                    ):
                        _execute(cursor, statement)
            finally:
                cursor.close()
        else:
            insert_rows(model, fields, rows)

    def __exit__(self, kind, error, traceback) -> None:
        if not self.threaded:
            return
        self.queue.put(None)
        self.thread.join()
        if error is None and self.failed is not None:
            with connection.wrap_database_errors:
                raise self.failed

    def _run(self) -> None:
        cursor = self.raw.cursor()
        try:
            while (statement := self.queue.get()) is not None:
                if self.failed is None:
                    try:
                        _execute(cursor, statement)
                    except BaseException as e:  # noqa: BLE001 — raised again by __exit__
                        self.failed = e
        finally:
            cursor.close()


def _sqlite_statements(
    table: str, columns: str, fields: list, literals: list[str], rows: Iterable[Sequence], limit
) -> Iterator[tuple[str, list, bool]]:
    """INSERTs of ROWS_PER_INSERT rows each, within SQLite's limit, then the rows left
    over one by one: (sql, parameters, many). The driver keeps each statement
    compiled (a quarter of a megabyte for 500 rows), so their shapes stay few."""
    width = len(fields)
    per = max(1, min(ROWS_PER_INSERT, limit // max(width, 1)))
    row = "(" + ", ".join(["?"] * width + literals) + ")"
    statement = f"INSERT INTO {table} ({columns}) VALUES "
    full = statement + ", ".join([row] * per)
    values = chain.from_iterable(rows)
    size = per * width
    while len(params := list(islice(values, size))) == size:
        yield full, params, False
    if params:
        rest = [params[i : i + width] for i in range(0, len(params), width)]
        yield statement + row, rest, True


def _execute(cursor, statement: tuple[str, list, bool]) -> None:
    sql, params, many = statement
    if many:
        cursor.executemany(sql, params)
    else:
        cursor.execute(sql, params)


def _literal(value) -> str:
    """A value as SQL text, for a statement that repeats it in every row."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str) and "\x00" not in value:
        return "'" + value.replace("'", "''") + "'"
    raise TypeError(f"no SQL literal for {value!r}")


def next_ids(model, count: int) -> range | None:
    """Primary keys that `count` new rows of `model` may take, when the database lets
    us choose them; None where it numbers rows itself (PostgreSQL's sequences).

    SQLite: the transaction holds the write lock (Django opens it with BEGIN
    IMMEDIATE here), so the numbers after the largest ever used stay free until
    it ends; were they taken, the INSERT would fail, not write a wrong row.
    """
    if connection.vendor != "sqlite":
        return None
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT MAX("id") FROM {connection.ops.quote_name(table)}')
        largest = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        found = cursor.fetchone()
    start = max(largest, found[0] if found else 0) + 1
    return range(start, start + count)
