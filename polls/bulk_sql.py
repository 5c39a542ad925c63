"""Plain INSERTs of many rows, for imports of 100,000 respondents.

bulk_create builds a model instance per row, which makes big imports several
times slower; these send the same statement with executemany. auto_now fields
are not filled in: pass their values.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import islice

from django.db import connection
from django.db.models.constants import OnConflict

BATCH = 5000


def chunks(items: Iterable, size: int = BATCH) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def insert_rows(model, fields: list[str], rows: Iterable, ignore_conflicts: bool = False) -> None:
    """INSERT rows (tuples in `fields` order); optionally skip rows a unique constraint holds."""
    meta, ops = model._meta, connection.ops
    columns = ", ".join(ops.quote_name(meta.get_field(f).column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    on_conflict = OnConflict.IGNORE if ignore_conflicts else None
    sql = (
        f"{ops.insert_statement(on_conflict=on_conflict)} {ops.quote_name(meta.db_table)} "
        f"({columns}) VALUES ({placeholders}) "
        f"{ops.on_conflict_suffix_sql(fields, on_conflict, None, None)}"
    ).strip()
    with connection.cursor() as cursor:
        for chunk in chunks(rows):
            cursor.executemany(sql, chunk)
