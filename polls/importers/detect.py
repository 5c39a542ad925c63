"""Which layout a table is in, from its header rows alone.

Order matters: a Qualtrics export is recognised by its ImportId row (or its
legacy V1…V10 row) before anything else; a plain table is what remains.
"""

from __future__ import annotations

from polls.importers import forms, qualtrics, surveymonkey
from polls.importers.constants import (
    GOOGLE_FORMS,
    MICROSOFT_FORMS,
    QUALTRICS,
    SPREADSHEET,
    SURVEYMONKEY,
)
from polls.importers.table import Rows
from polls.importers.types import ImportProblem


def detect_layout(rows: Rows) -> str:
    if qualtrics.header_count(rows):
        return QUALTRICS
    if surveymonkey.matches(rows):
        return SURVEYMONKEY
    if forms.is_microsoft(rows):
        return MICROSOFT_FORMS
    if forms.is_google(rows):
        return GOOGLE_FORMS
    return SPREADSHEET


def layout_for(rows: Rows, format: str, filename: str) -> str:
    """The layout `format` asks for; "forms" still tells Microsoft from Google."""
    if format == "auto":
        return detect_layout(rows)
    if format in ("csv", "xlsx"):
        return SPREADSHEET
    if format == "forms":
        layout = detect_layout(rows)
        if layout not in (MICROSOFT_FORMS, GOOGLE_FORMS):
            raise ImportProblem(
                "this is not a Microsoft Forms export (first columns ID, Start time, "
                "Completion time) nor a Google Forms one (first column Timestamp)",
                file=filename,
                row=1,
                column="A",
            )
        return layout
    if format == "surveymonkey" and not surveymonkey.matches(rows):
        raise ImportProblem(
            "this is not a SurveyMonkey export: row 1 has no Respondent ID and Collector ID",
            file=filename,
            row=1,
        )
    return {"qualtrics": QUALTRICS, "surveymonkey": SURVEYMONKEY}[format]
