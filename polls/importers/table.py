"""CSV, TSV or XLSX bytes → rows of stripped strings.

Row i of the result (0-based) is row i+1 as a spreadsheet shows it: header rows
included, blank rows kept (as []) so that numbering never drifts, and a CSV
record with line breaks inside a quoted answer counts as one row, as in Excel.
A first line `sep=;` is hidden by Excel, so it is not counted either.

`read_columns`, which the layout readers use, keeps the same rows by column
(see Table): a 100,000-row export has two million cells, and column by column
they are stripped and checked in C loops, and a column's repeated values
(choices, scale points, dates) share one string. A CSV file is read as a
stream of text where decode allows (see decode.text_chunks), else whole.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterator
from datetime import date, datetime, time
from itertools import chain, islice

from polls.importers.decode import (
    ZIP_MAGIC,
    WholeText,
    decode,
    start_of,
    text_stream,
    whole,
)
from polls.importers.types import ImportProblem

MAX_ROWS = 1_000_000
MAX_CELL = 100_000
DELIMITERS = (",", ";", "\t")
SNIFF_CHARS = 65_536
SNIFF_ROWS = 6
SEP_LINE = re.compile(r"sep=(.)[ \t]*\n")
XLS_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
XLSX_SUFFIXES = (".xlsx", ".xlsm")
HEAD_ROWS = 3  # the most header rows a layout has (Qualtrics)
CHUNK_ROWS = 1024  # rows turned into columns at a time
# A column stops sharing its repeated values once it has this many distinct ones
# and they are more than a quarter of its rows (free text, ids, timestamps).
SHARE_LIMIT = 512

# The csv module refuses fields over 128 KiB with an unhelpful error; we check
# cell length ourselves (MAX_CELL) so that the message names the cell.
csv.field_size_limit(max(csv.field_size_limit(), 64 * 1024 * 1024))

Rows = list[list[str]]


class Table:
    """A file's rows by column, as read_table would return them.

    head: the first HEAD_ROWS rows as lists, as read_table gives them (what
    layout detection and the header rows need). columns: every row's cells,
    one list per column, padded with "" to the widest row. blank: 0-based
    indexes of rows without a value. count: how many rows.
    """

    __slots__ = ("blank", "columns", "count", "head")

    def __init__(self, head: Rows, columns: list[list[str]], count: int, blank: list[int]):
        self.head = head
        self.columns = columns
        self.count = count
        self.blank = blank

    def is_empty(self) -> bool:
        return len(self.blank) == self.count


def read_table(data, filename: str, file_type: str = "auto") -> Rows:
    """file_type: "csv", "xlsx" or "auto" (zip bytes or an .xlsx name mean XLSX)."""
    if _is_xlsx(data, filename, file_type):
        rows = read_xlsx(whole(data), filename)
    else:
        rows = read_csv(whole(data), filename)
    if not any(any(row) for row in rows):
        raise ImportProblem("the file is empty", file=filename)
    return rows


def read_columns(source, filename: str, file_type: str = "auto") -> Table:
    """read_table by column. source: bytes, or a binary file object (read from its start)."""
    if _is_xlsx(source, filename, file_type):
        table = _table(_xlsx_rows(whole(source), filename), filename)
    else:
        try:
            table = _table(_streamed_records(source), filename)
        except (WholeText, UnicodeDecodeError):
            text = decode(whole(source), filename)
            table = _table(_text_records(text), filename)
    if table.is_empty():
        raise ImportProblem("the file is empty", file=filename)
    return table


def _is_xlsx(source, filename: str, file_type: str) -> bool:
    start = start_of(source, len(XLS_MAGIC))
    if start.startswith(XLS_MAGIC):
        raise ImportProblem(
            "this is an old Excel .xls workbook; save it as .xlsx or CSV UTF-8", file=filename
        )
    if file_type == "auto":
        return start.startswith(ZIP_MAGIC) or filename.lower().endswith(XLSX_SUFFIXES)
    return file_type == "xlsx"


# --- CSV ---------------------------------------------------------------------


def read_csv(data: bytes, filename: str) -> Rows:
    rows: Rows = []
    records = _text_records(decode(data, filename))
    try:
        for number, record in enumerate(records, start=1):
            if number > MAX_ROWS:
                _too_many_rows(filename)
            rows.append(_clean(record, number, filename))
    except csv.Error as e:
        raise ImportProblem(f"cannot read this CSV: {e}", file=filename, row=len(rows) + 1) from e
    return rows


def _text_records(text: str) -> Iterator[list[str]]:
    """The records of a whole decoded text, unstripped."""
    if "\r" in text:
        # One pass over the text is far cheaper than fixing line breaks cell by cell.
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    delimiter, text = _sep_line(text)
    delimiter = delimiter or sniff_delimiter(text)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _streamed_records(source) -> Iterator[list[str]]:
    """The records of a UTF-8 source read as a stream (decode.text_stream)."""
    stream = text_stream(source)
    try:
        start = stream.read(SNIFF_CHARS + 1)  # enough to find a sep= line and the delimiter
        start += stream.readline()  # up to a line's end: csv.reader reads the rest by lines
    except UnicodeDecodeError:
        raise WholeText from None
    delimiter, start = _sep_line(start)
    delimiter = delimiter or sniff_delimiter(start)
    lines = chain(io.StringIO(start, newline="\n"), stream)
    return csv.reader(lines, delimiter=delimiter)


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


# --- rows to columns -----------------------------------------------------------


class _Shared(dict):
    """A column's cells, stripped once per distinct value and shared (raw → stripped)."""

    __slots__ = ("longest",)

    def __init__(self):
        super().__init__()
        self.longest = 0

    def __missing__(self, raw: str) -> str:
        cell = raw.strip()
        if cell is not raw:
            cell = self.setdefault(cell, cell)
        self[raw] = cell
        self.longest = max(self.longest, len(cell))
        return cell


class _Columns:
    """Builds a Table from records, CHUNK_ROWS at a time, with the checks read_csv makes."""

    def __init__(self, filename: str):
        self.filename = filename
        self.head: Rows = []
        self.columns: list[list[str]] = []
        self.shared: list[_Shared | None] = []
        self.count = 0
        self.blank: list[int] = []

    def add(self, records: list[list[str]]) -> None:
        if not records:
            return
        if self.count + len(records) > MAX_ROWS:
            self.add(records[: MAX_ROWS - self.count])
            _too_many_rows(self.filename)
        lengths = list(map(len, records))
        width = max(lengths)
        while len(self.columns) < width:
            self.columns.append([""] * self.count)
            self.shared.append(_Shared())
        width = len(self.columns)
        if min(lengths) < width:
            for record in records:
                if len(record) < width:
                    record.extend([""] * (width - len(record)))
        cells = []
        for raw, shared in zip(zip(*records, strict=True), self.shared, strict=True):
            if shared is None:
                cells.append(list(map(str.strip, raw)))
            else:
                cells.append(list(map(shared.__getitem__, raw)))
        self._check_lengths(cells)
        if self.count < HEAD_ROWS:
            for i in range(min(len(records), HEAD_ROWS - self.count)):
                self.head.append([c[i] for c in cells][: lengths[i]])
        flags = list(map(any, zip(*cells, strict=True)))
        if not all(flags):
            self.blank.extend(self.count + i for i, flag in enumerate(flags) if not flag)
        for column, new in zip(self.columns, cells, strict=True):
            column += new
        self.count += len(records)
        for j, shared in enumerate(self.shared):
            if shared is not None and len(shared) > SHARE_LIMIT and len(shared) * 4 > self.count:
                self.shared[j] = None  # mostly distinct values: not worth a dictionary

    def _check_lengths(self, cells: list[list[str]]) -> None:
        limit = MAX_CELL
        for column, shared in zip(cells, self.shared, strict=True):
            longest = shared.longest if shared is not None else max(map(len, column))
            if longest > limit:
                break
        else:
            return
        for i in range(len(cells[0])):
            row = [column[i] for column in cells]
            if max(map(len, row)) > limit:
                _cell_too_long(row, self.count + i + 1, self.filename)
        for shared in self.shared:  # a long value met before, in an earlier row
            if shared is not None:
                shared.longest = 0

    def table(self) -> Table:
        return Table(self.head, self.columns, self.count, self.blank)


def _table(records: Iterator[list[str]], filename: str) -> Table:
    columns = _Columns(filename)
    chunk: list[list[str]] = []
    try:
        for record in records:
            chunk.append(record)
            if len(chunk) == CHUNK_ROWS:
                columns.add(chunk)
                chunk = []
    except csv.Error as e:
        columns.add(chunk)  # a bad cell before the error is named first, as read_csv does
        raise ImportProblem(
            f"cannot read this CSV: {e}", file=filename, row=columns.count + 1
        ) from e
    columns.add(chunk)
    return columns.table()


# --- XLSX --------------------------------------------------------------------


def read_xlsx(data: bytes, filename: str) -> Rows:
    """The first worksheet, read streaming (read_only) with cached formula values."""
    return list(_xlsx_rows(data, filename))


def _xlsx_rows(data: bytes, filename: str) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # imported here: CSV-only use need not load it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as e:  # noqa: BLE001 — any damage in the zip or XML means "not readable"
        raise ImportProblem(
            f"this is not a readable .xlsx workbook ({_reason(e)}); export it again or "
            "save it as CSV UTF-8",
            file=filename,
        ) from None
    read = 0
    try:
        if not workbook.worksheets:
            raise ImportProblem("the workbook has no worksheet", file=filename)
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some writers record wrong dimensions; read every row
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if number > MAX_ROWS:
                _too_many_rows(filename)
            yield _xlsx_row(values, number, filename)
            read = number
    except ImportProblem:
        raise
    except Exception as e:  # noqa: BLE001 — a truncated workbook fails while streaming rows
        raise ImportProblem(
            f"the workbook is damaged and cannot be read past this row ({_reason(e)})",
            file=filename,
            row=read + 1,
        ) from None
    finally:
        workbook.close()


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
