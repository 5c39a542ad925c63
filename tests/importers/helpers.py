"""Helpers for the importer tests: reading test exports, building workbooks, checking messages."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from openpyxl import Workbook

from polls.importers.types import ImportProblem

DATA = Path(__file__).resolve().parents[1] / "data"
# CI clones the repository with shared/ beside it, as on the development machine.
SHARED_QUALTRICS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "qualtrics"


def data(name: str) -> bytes:
    return (DATA / name).read_bytes()


def workbook_bytes(rows: list[list[object]]) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def names_the_cell(problem: ImportProblem, file: str, row: int | None, column: str = "") -> None:
    """The message a person reads names the file, the row and the column."""
    message = str(problem)
    assert message.startswith(file), message
    if row is not None:
        assert f"row {row}" in message, message
    if column:
        assert f"column {column}" in message, message


def numeric_rows() -> list[list[str]]:
    """The rows of qualtrics_numeric.csv, to alter for a bad-input case."""
    text = data("qualtrics_numeric.csv").decode()
    return list(csv.reader(io.StringIO(text, newline="")))


def as_csv(rows: list[list[str]]) -> bytes:
    """Rows written as Qualtrics writes CSV: CRLF records, quotes where needed."""
    buffer = io.StringIO(newline="")
    csv.writer(buffer, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode()
