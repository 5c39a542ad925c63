"""Statements written out, for the hottest requests.

Building a query through the ORM costs a few tenths of a millisecond, several
times what SQLite or a local PostgreSQL takes to run it. Applying a theme is
the request coders make most, a dozen statements each, so it uses these. Each
function takes the usual "%s" placeholders, on every database.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from django.db import connection
from django.db.models.constants import OnConflict


@functools.cache
def insert_sql(model, fields: tuple[str, ...], ignore_conflicts: bool) -> str:
    meta, ops = model._meta, connection.ops
    columns = ", ".join(ops.quote_name(meta.get_field(f).column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    return (
        f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(meta.db_table)} "
        f"({columns}) VALUES ({placeholders}) "
        f"{ops.on_conflict_suffix_sql(list(fields), on_conflict, None, None)}"
    ).strip()


def insert_once(model, **values) -> bool:
    """INSERT one row unless a unique constraint already holds one like it; True if it did.

    One statement, where create() in a savepoint takes three round trips: for
    the workbench's most frequent request, applying a theme.
    """
    return _insert_one(model, values, ignore_conflicts=True) == 1


def insert_one(model, **values) -> None:
    """INSERT one row, its values prepared as the model's fields would (no instance,
    no RETURNING): for rows nobody reads back in the request, such as an Event."""
    _insert_one(model, values, ignore_conflicts=False)


def _insert_one(model, values: dict, ignore_conflicts: bool) -> int:
    meta = model._meta
    params = [meta.get_field(name).get_db_prep_save(v, connection) for name, v in values.items()]
    return execute(insert_sql(model, tuple(values), ignore_conflicts), params)


def execute(sql: str, params: Sequence = ()) -> int:
    """Run one statement written out; the rows it changed.

    For the few statements of the hottest requests (a theme applied), where
    building the query through the ORM costs several times what the database
    takes to run it.
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def fetch_one(sql: str, params: Sequence = ()) -> tuple | None:
    """The first row of a query written out (see execute), or None."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()


def fetch_all(sql: str, params: Sequence = ()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()
