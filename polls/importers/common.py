"""What every layout reader does: check the header, square the rows, build the survey.

A layout reader (qualtrics, surveymonkey, forms, plain) decides what each
column is and describes it as a plan; `assemble` turns the plan into a
RawSurvey with one transpose of the data, so per-cell work stays minimal.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field

from polls.importers.constants import MAX_EXPORT_ID
from polls.importers.table import Rows, column_letter, column_ref
from polls.importers.types import (
    ImportProblem,
    RawColumn,
    RawQuestion,
    RawRespondent,
    RawSurvey,
)

# (spreadsheet row number, cells) of one response
DataRow = tuple[int, list[str]]

TAG = re.compile(r"<[^>]*>")


@dataclass
class ColumnPlan:
    index: int
    name: str
    role: str = "main"
    choice: str = ""
    choice_code: str = ""


@dataclass
class QuestionPlan:
    export_id: str
    text: str
    columns: list[ColumnPlan]
    is_text_entry: bool = False
    known_options: list[str] = field(default_factory=list)
    multi_separator: str = ","


@dataclass
class SurveyPlan:
    """What a layout reader found; `assemble` builds the RawSurvey from it."""

    platform: str
    filename: str
    rows: list[DataRow]  # the kept responses
    ids: list[str]  # one per kept response
    id_column: str  # how messages name the id column, e.g. "I (ResponseId)"
    questions: list[QuestionPlan]
    attributes: list[tuple[str, int]]  # (attribute name, column index)
    skipped_previews: int = 0


def split_rows(rows: Rows, header_count: int, filename: str) -> tuple[Rows, list[DataRow]]:
    """Header rows padded to the file's width, and non-blank data rows squared to it.

    The width is that of the widest header row (SurveyMonkey's first row stops
    at the last question's first column; its second row goes on). A data row
    with a value beyond it is refused: its cells would land in wrong columns.
    """
    headers = [list(r) for r in rows[:header_count]]
    while len(headers) < header_count:
        headers.append([])
    width = max((len(_trimmed(h)) for h in headers), default=0)
    for header in headers:
        _square(header, width)
    data: list[DataRow] = []
    for number, row in enumerate(rows[header_count:], start=header_count + 1):
        if len(row) > width:
            _refuse_ragged(row, width, number, filename)
        if not any(row):
            continue  # blank line, e.g. at the end of the file
        if len(row) != width:
            _square(row, width)
        data.append((number, row))
    if not data:
        raise ImportProblem(
            f"the file has {header_count} header row{'s' if header_count > 1 else ''} "
            "but no responses",
            file=filename,
            row=header_count + 1,
        )
    return headers, data


def _trimmed(row: list[str]) -> list[str]:
    end = len(row)
    while end and not row[end - 1]:
        end -= 1
    return row[:end]


def _square(row: list[str], width: int) -> None:
    if len(row) < width:
        row.extend([""] * (width - len(row)))
    else:
        del row[width:]


def _refuse_ragged(row: list[str], width: int, number: int, filename: str) -> None:
    extra = next((i for i in range(width, len(row)) if row[i]), None)
    if extra is None:
        return  # only trailing empty cells
    raise ImportProblem(
        f"this row has a value beyond the header's last column ({column_letter(width - 1)}): "
        f"{len(_trimmed(row))} cells for {width} columns — an unquoted delimiter or a stray "
        "quote inside an answer?",
        file=filename,
        row=number,
        column=column_letter(extra),
    )


def refuse_duplicate_names(
    names: list[str], filename: str, row: int = 1, *, casefold: bool = False
) -> None:
    """Two columns of one name would make ids and attributes ambiguous."""
    seen: dict[str, int] = {}
    for index, name in enumerate(names):
        if not name:
            continue
        key = name.casefold() if casefold else name
        if key in seen:
            first = seen[key]
            raise ImportProblem(
                f'the column name "{name}" appears twice, in columns '
                f"{column_letter(first)} and {column_letter(index)}; rename one",
                file=filename,
                row=row,
                column=column_ref(index, name),
            )
        seen[key] = index


def clean_label(text: str) -> str:
    """Question text without HTML tags, entities or runs of whitespace."""
    if "<" in text:
        text = TAG.sub(" ", text)
    if "&" in text:
        text = html.unescape(text)
    return " ".join(text.split())


def find_column(names: list[str], *wanted: str) -> int | None:
    """Index of the first column named one of `wanted`, case-insensitively."""
    keys = {w.casefold() for w in wanted}
    return next((i for i, n in enumerate(names) if n.casefold() in keys), None)


def assemble(plan: SurveyPlan) -> RawSurvey:
    _refuse_bad_ids(plan)
    _refuse_bad_question_ids(plan)
    cells = [list(column) for column in zip(*(row for _, row in plan.rows), strict=True)]
    respondents = [
        RawRespondent(
            export_id=export_id,
            row=number,
            attributes={name: row[i] for name, i in plan.attributes if row[i]},
        )
        for export_id, (number, row) in zip(plan.ids, plan.rows, strict=True)
    ]
    questions = [
        RawQuestion(
            export_id=q.export_id,
            text=q.text,
            columns=[
                RawColumn(c.name, _cells(cells, c.index), c.role, c.choice, c.choice_code, c.index)
                for c in q.columns
            ],
            is_text_entry=q.is_text_entry,
            known_options=q.known_options,
            multi_separator=q.multi_separator,
        )
        for q in plan.questions
    ]
    return RawSurvey(
        platform=plan.platform,
        filename=plan.filename,
        respondents=respondents,
        questions=questions,
        attribute_columns=[name for name, _ in plan.attributes],
        skipped_previews=plan.skipped_previews,
    )


def _cells(cells: list[list[str]], index: int) -> list[str]:
    return cells[index] if cells else []  # no kept responses: every column is empty


def _refuse_bad_ids(plan: SurveyPlan) -> None:
    seen: dict[str, int] = {}
    for export_id, (number, _) in zip(plan.ids, plan.rows, strict=True):
        if not export_id:
            raise ImportProblem(
                "this response has no id", file=plan.filename, row=number, column=plan.id_column
            )
        if len(export_id) > MAX_EXPORT_ID:
            raise ImportProblem(
                f"this response id is longer than {MAX_EXPORT_ID} characters",
                file=plan.filename,
                row=number,
                column=plan.id_column,
            )
        if export_id in seen:
            raise ImportProblem(
                f"response id {export_id!r} appears twice, in rows {seen[export_id]} and {number}",
                file=plan.filename,
                row=number,
                column=plan.id_column,
            )
        seen[export_id] = number


def _refuse_bad_question_ids(plan: SurveyPlan) -> None:
    seen: dict[str, QuestionPlan] = {}
    for q in plan.questions:
        first = q.columns[0]
        where = column_ref(first.index, first.name)
        if len(q.export_id) > MAX_EXPORT_ID:
            raise ImportProblem(
                f"question id {q.export_id[:40]!r}… is longer than {MAX_EXPORT_ID} characters",
                file=plan.filename,
                row=1,
                column=where,
            )
        if q.export_id in seen:
            other = seen[q.export_id].columns[0]
            raise ImportProblem(
                f"two questions have the id {q.export_id!r}: columns "
                f"{column_letter(other.index)} and {column_letter(first.index)}",
                file=plan.filename,
                row=1,
                column=where,
            )
        seen[q.export_id] = q
