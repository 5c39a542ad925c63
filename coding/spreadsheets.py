"""Writing tables people open in Excel, without handing Excel a formula.

Survey answers are hostile input: a cell starting with =, +, -, @, a tab, a
carriage return or a NUL can run as a formula (CSV injection, CWE-1236). CSV
cells get a leading apostrophe; XLSX cells are typed as strings instead, which
Excel never evaluates. Stored text is never changed.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\0")
XLSX_CELL_LIMIT = 32_767
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
SHEET_NAME_FORBIDDEN = str.maketrans(dict.fromkeys("[]:*?/\\", "_"))


def safe_text(value: str) -> str:
    """The text with an apostrophe in front when a spreadsheet would read a formula."""
    if value.lstrip(" ").startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    return str(value)


def csv_text(header: Sequence[str], rows: Iterable[Sequence]) -> str:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows([csv_cell(v) for v in row] for row in rows)
    return text.getvalue()


def write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence]) -> None:
    # UTF-8 without BOM: these files are a machine contract (see design.md);
    # people who want Excel get report.xlsx.
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows([csv_cell(v) for v in row] for row in rows)


def sheet_name(name: str, taken: set[str]) -> str:
    base = name.translate(SHEET_NAME_FORBIDDEN)[:31] or "Sheet"
    candidate, n = base, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{base[: 31 - len(str(n)) - 1]}~{n}"
    taken.add(candidate.lower())
    return candidate


def write_xlsx(path: Path, sheets: Iterable[tuple[str, Sequence[str], Iterable[Sequence]]]) -> None:
    workbook = Workbook()
    workbook.remove(workbook.active)
    taken: set[str] = set()
    for name, header, rows in sheets:
        sheet = workbook.create_sheet(sheet_name(name, taken))
        for r, row in enumerate([header, *rows], start=1):
            for c, value in enumerate(row, start=1):
                _set_cell(sheet.cell(row=r, column=c), value)
        for c in range(1, len(header) + 1):
            sheet.column_dimensions[get_column_letter(c)].width = 18
    workbook.save(path)


def xml_text(value: str) -> str:
    """The text without the control characters XML (so XLSX and DOCX) cannot hold.

    A vertical tab is Word's line break and becomes one; the rest are dropped.
    """
    return CONTROL.sub("", value.replace("\x0b", "\n"))


def _set_cell(cell, value) -> None:
    if isinstance(value, str):
        cell.value = xml_text(value)[:XLSX_CELL_LIMIT]
        cell.data_type = "s"  # openpyxl would otherwise store "=…" as a formula
    else:
        cell.value = value
