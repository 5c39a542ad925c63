"""CSV, TSV or XLSX bytes → rows of stripped strings.

Row i of the result (0-based) is row i+1 as a spreadsheet shows it: header rows
included, blank rows kept (as []) so that numbering never drifts, and a CSV
record with line breaks inside a quoted answer counts as one row, as in Excel.
A first line `sep=;` is hidden by Excel, so it is not counted either.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import date, datetime, time
from itertools import islice

from polls.importers.decode import ZIP_MAGIC, decode
from polls.importers.types import ImportProblem

MAX_ROWS = 1_000_000
MAX_CELL = 100_000
DELIMITERS = (",", ";", "\t")
SNIFF_CHARS = 65_536
SNIFF_ROWS = 6
SEP_LINE = re.compile(r"sep=(.)[ \t]*\n")
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_SUFFIXES = (".xlsx", ".xlsm")

# The csv module refuses fields over 128 KiB with an unhelpful error; we check
# cell length ourselves (MAX_CELL) so that the message names the cell.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))

Rows = list[list[str]]


def read_table(data: bytes, filename: str, file_type: str = "auto") -> Rows:
    """file_type: "csv", "xlsx" or "auto" (zip bytes or an .xlsx name mean XLSX)."""
    if data.startswith(XLS_MAGIC):
        raise ImportProblem(
            "this is an old Excel .xls workbook; save it as .xlsx or CSV UTF-8", file=filename
        )
    if file_type == "auto":
        is_xlsx = data.startswith(ZIP_MAGIC) or filename.lower().endswith(XLSX_SUFFIXES)
        file_type = "xlsx" if is_xlsx else "csv"
    rows = read_xlsx(data, filename) if file_type == "xlsx" else read_csv(data, filename)
    if not any(any(row) for row in rows):
        raise ImportProblem("the file is empty", file=filename)
    return rows


# --- CSV ---------------------------------------------------------------------


def read_csv(data: bytes, filename: str) -> Rows:
    text = decode(data, filename)
    if "\r" in text:
        # One pass over the text is far cheaper than fixing line breaks cell by cell.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter, text = _sep_line(text)
    delimiter = delimiter or sniff_delimiter(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    rows: Rows = []
    try:
        for number, record in enumerate(reader, start=1):
            if number > MAX_ROWS:
                _too_many_rows(filename)
            rows.append(_clean(record, number, filename))
    except csv.Error as e:
        raise ImportProblem(f"cannot read this CSV: {e}", file=filename, row=len(rows) + 1) from e
    return rows


def _sep_line(text: str) -> tuple[str, str]:
    """Excel's `sep=;` first line names the delimiter and is not a row."""
    m = SEP_LINE.match(text)
    return (m.group(1), text[m.end() :]) if m else ("", text)


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first rows into the most equal, widest rows.

    Consistency comes first: a `;` file whose question texts hold commas has a
    wide first row when split on commas, but its rows then disagree in width.
    """
    sample = text[:SNIFF_CHARS]
    best, best_score = ",", (False, 0, 0)
    for delimiter in DELIMITERS:
        reader = csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter)
        try:
            records = [r for r in islice(reader, SNIFF_ROWS) if any(r)]
        except csv.Error:
            continue
        if len(text) > SNIFF_CHARS and len(records) > 1:
            records.pop()  # the sample may cut the last record short
        if not records:
            continue
        width = len(_trim(records[0]))
        consistent = sum(1 for r in records if len(_trim(r)) == width)
        score = (width > 1, consistent, width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _trim(row: list[str]) -> list[str]:
    """Without trailing empty cells (legacy Qualtrics ends every line with a comma)."""
    end = len(row)
    while end and not row[end - 1].strip():
        end -= 1
    return row[:end]


def _clean(record: list[str], number: int, filename: str) -> list[str]:
    row = [cell.strip() for cell in record]
    if row and max(map(len, row)) > MAX_CELL:
        _cell_too_long(row, number, filename)
    return row


def _cell_too_long(row: list[str], number: int, filename: str) -> None:
    index = next(i for i, cell in enumerate(row) if len(cell) > MAX_CELL)
    raise ImportProblem(
        f"this cell holds {len(row[index]):,} characters, more than the {MAX_CELL:,} allowed "
        "(an unclosed quote can swallow the rest of the file)",
        file=filename,
        row=number,
        column=column_letter(index),
    )


def _too_many_rows(filename: str) -> None:
    raise ImportProblem(
        f"the file has more than {MAX_ROWS:,} rows; split it into several files",
        file=filename,
        row=MAX_ROWS + 1,
    )


# --- XLSX --------------------------------------------------------------------


def read_xlsx(data: bytes, filename: str) -> Rows:
    """The first worksheet, read streaming (read_only) with cached formula values."""
    from openpyxl import load_workbook  # imported here: CSV-only use need not load it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 — any damage in the zip or XML means "not readable"
        raise ImportProblem(
            f"this is not a readable .xlsx workbook ({_reason(e)}); export it again or "
            "save it as CSV UTF-8",
            file=filename,
        ) from None
    rows: Rows = []
    try:
        if not workbook.worksheets:
            raise ImportProblem("the workbook has no worksheet", file=filename)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read every row
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                _too_many_rows(filename)
            rows.append(_xlsx_row(values, number, filename))
    except ImportProblem:
        raise
    except Exception as e:  # noqa: BLE001 — a truncated workbook fails while streaming rows
        raise ImportProblem(
            f"the workbook is damaged and cannot be read past this row ({_reason(e)})",
            file=filename,
            row=len(rows) + 1,
        ) from None
    finally:
        workbook.close()
    return rows


def _reason(e: Exception) -> str:
    detail = str(e).strip()
    return f"{type(e).__name__}: {detail[:120]}" if detail else type(e).__name__


def _xlsx_row(values: tuple, number: int, filename: str) -> list[str]:
    row = [cell_text(v) for v in values]
    while row and not row[-1]:
        row.pop()  # read-only rows run to the sheet's widest column
    if row and max(map(len, row)) > MAX_CELL:
        _cell_too_long(row, number, filename)
    return row


def cell_text(value: object) -> str:
    """A cell as the person sees it: 7 not 7.0, dates in ISO form."""
    if value is None:
        return ""
    if isinstance(value, str):
        text = value.strip()
        if "\r" in text:
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        if not text.isascii() and not unicodedata.is_normalized("NFC", text):
            text = unicodedata.normalize("NFC", text)
        return text
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()


# --- naming cells ------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: the column as a spreadsheet labels it."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_ref(index: int | None, name: str = "") -> str:
    """ "D (Q4)" — the letter finds the cell, the name says what it is."""
    short = name if len(name) <= 40 else name[:39] + "…"
    if index is None:
        return short
    return f"{column_letter(index)} ({short})" if short else column_letter(index)
