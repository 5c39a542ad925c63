"""Microsoft Forms (XLSX, or a CSV re-saved from Excel) and Google Forms (Sheets CSV).

One header row (research/formats.md §2.2–2.3); every column that is not
metadata is a question, numbered Q1, Q2… in column order, its header the text.
- Microsoft: `ID,Start time,Completion time,Email,Name,…` (newer: `Last modified
  time`; quizzes: `Total points`, `Quiz feedback`, `Points - <q>`, `Feedback - <q>`,
  which are scores, not answers). Multi-select cells are joined with `;` and
  end with `;`. The respondent id is `ID`.
- Google: `Timestamp,…` (optional `Email Address`, quiz `Score`). Multi-select
  cells are joined with `, `; an "Other" text is one more piece of the cell.
  There is no response id, so respondents are named by row: `R2`, `R3`…
"""

from __future__ import annotations

import re

from polls.importers.common import (
    ColumnPlan,
    QuestionPlan,
    SurveyPlan,
    assemble,
    clean_label,
    find_column,
    split_rows,
)
from polls.importers.constants import GOOGLE_FORMS, MICROSOFT_FORMS
from polls.importers.table import Rows, Table, column_ref
from polls.importers.types import RawSurvey

MS_METADATA = {
    "id", "start time", "completion time", "email", "name", "last modified time",
    "total points", "quiz feedback",
}  # fmt: skip
MS_QUIZ_COLUMN = re.compile(r"^(?:points|feedback) - ", re.IGNORECASE)
# Sheets names the first column in the form owner's language.
GOOGLE_TIMESTAMPS = {
    "timestamp", "horodateur", "marca temporal", "zeitstempel", "tijdstempel",
    "carimbo de data/hora", "informazioni cronologiche",
}  # fmt: skip
GOOGLE_METADATA = GOOGLE_TIMESTAMPS | {"email address", "score", "username"}


def is_microsoft(rows: Rows) -> bool:
    first = [c.casefold() for c in rows[0]] if rows else []
    return first[:1] == ["id"] and {"start time", "completion time"} <= set(first)


def is_google(rows: Rows) -> bool:
    return bool(rows and rows[0]) and rows[0][0].casefold() in GOOGLE_TIMESTAMPS


def read_microsoft(table: Table, filename: str, *, include_previews: bool = False) -> RawSurvey:
    headers, data = split_rows(table, 1, filename)
    names = headers[0]
    id_index = find_column(names, "ID")
    questions = _questions(
        names, lambda n: n.casefold() in MS_METADATA or bool(MS_QUIZ_COLUMN.match(n)), ";"
    )
    return assemble(
        SurveyPlan(
            platform=MICROSOFT_FORMS,
            filename=filename,
            data=data,
            ids=data.columns[id_index],
            id_column=column_ref(id_index, "ID"),
            questions=questions,
            attributes=[],
        )
    )


def read_google(table: Table, filename: str, *, include_previews: bool = False) -> RawSurvey:
    headers, data = split_rows(table, 1, filename)
    questions = _questions(headers[0], lambda n: n.casefold() in GOOGLE_METADATA, ", ")
    return assemble(
        SurveyPlan(
            platform=GOOGLE_FORMS,
            filename=filename,
            data=data,
            ids=[f"R{number}" for number in data.numbers],
            id_column="row number",
            questions=questions,
            attributes=[],
        )
    )


def _questions(names: list[str], is_metadata, separator: str) -> list[QuestionPlan]:
    plans: list[QuestionPlan] = []
    for index, name in enumerate(names):
        if is_metadata(name):
            continue
        qid = f"Q{len(plans) + 1}"
        plans.append(
            QuestionPlan(
                qid,
                clean_label(name),
                [ColumnPlan(index, name or qid)],
                multi_separator=separator,
            )
        )
    return plans
