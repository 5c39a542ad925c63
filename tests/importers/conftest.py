"""Exports for the importer tests: files in tests/data, workbooks built here.

Workbooks are built with openpyxl rather than committed, so that what they hold
stays readable in this file.
"""

from __future__ import annotations

import csv
import io
from datetime import datetime

import pytest

from tests.importers.helpers import data, workbook_bytes


@pytest.fixture
def qualtrics_xlsx() -> bytes:
    """qualtrics_numeric.csv as Qualtrics' XLSX download: numbers as numbers."""
    text = data("qualtrics_numeric.csv").decode("utf-8")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    return workbook_bytes(
        [rows[0], rows[1], rows[2]]
        + [[int(c) if c.isdigit() else c for c in row] for row in rows[3:]]
    )


@pytest.fixture
def ms_forms_xlsx() -> bytes:
    """A Microsoft Forms "Open results in Excel" workbook of a quiz-style form."""
    barriers = "Which barriers apply to you?"
    effective = "How effective is supervision? 1 = not effective at all 10 = very effective"
    helps = "What would help you most?"
    header = [
        "ID",
        "Start time",
        "Completion time",
        "Email",
        "Name",
        "Last modified time",
        barriers,
        effective,
        helps,
        "Total points",
        "Quiz feedback",
        f"Points - {helps}",
        f"Feedback - {helps}",
    ]
    started = datetime(2021, 9, 13, 9, 0, 0)
    answers = [
        ("Time;Money, staff and training;", 7, "More time with families"),
        ("Time;", 4, "Smaller caseloads\nand better pay"),
        ("Money, staff and training;Court delays;", 10, None),
        ("Court delays;Time;", None, "Admin support"),
        (None, 2, None),
    ]
    rows: list[list[object]] = [header]
    for i, (a, b, c) in enumerate(answers, start=1):
        rows.append([i, started, started, "anonymous", None, None, a, b, c, 0, None, 0, None])
    return workbook_bytes(rows)
