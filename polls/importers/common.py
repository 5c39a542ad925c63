"""What every layout reader does: check the header, square the rows, build the survey.

A layout reader (qualtrics, surveymonkey, forms, plain) decides what each
column is and describes it as a plan; `assemble` turns the plan into a
RawSurvey. The responses stay by column from the table to the survey (Data),
so per-cell work happens in C loops over a column, not in Python per row.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import compress

from polls.importers.constants import MAX_EXPORT_ID
from polls.importers.table import Rows, Table, column_letter, column_ref
from polls.importers.types import (
    ImportProblem,
    RawColumn,
    RawQuestion,
    RawSurvey,
    Respondents,
)

TAG = re.compile(r"<[^>]*>")


class Data:
    """The responses by column: spreadsheet row numbers, and cells squared to the header."""

    __slots__ = ("columns", "numbers")

    def __init__(self, numbers: Sequence[int], columns: list[list[str]]):
        self.numbers = numbers
        self.columns = columns

    def __len__(self) -> int:
        return len(self.numbers)

    def keep(self, kept: list[bool]) -> Data:
        """The responses whose flag is true."""
        return Data(
            list(compress(self.numbers, kept)),
            [list(compress(column, kept)) for column in self.columns],
        )

    def row(self, index: int) -> list[str]:
        return [column[index] for column in self.columns]


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
    data: Data  # the kept responses
    ids: list[str]  # one per kept response
    id_column: str  # how messages name the id column, e.g. "I (ResponseId)"
    questions: list[QuestionPlan]
    attributes: list[tuple[str, int]]  # (attribute name, column index)
    skipped_previews: int = 0


def split_rows(table: Table, header_count: int, filename: str) -> tuple[Rows, Data]:
    """Header rows padded to the file's width, and non-blank data rows squared to it.

    The width is that of the widest header row (SurveyMonkey's first row stops
    at the last question's first column; its second row goes on). A data row
    with a value beyond it is refused: its cells would land in wrong columns.
    The table's columns become the data's: the table is not to be used after.
    """
    headers = [list(r) for r in table.head[:header_count]]
    while len(headers) < header_count:
        headers.append([])
    width = max((len(_trimmed(h)) for h in headers), default=0)
    for header in headers:
        _square(header, width)
    columns = table.columns
    _refuse_ragged(table, header_count, width, filename)
    del columns[width:]
    while len(columns) < width:
        columns.append([""] * table.count)
    for column in columns:
        del column[:header_count]
    blank = [i - header_count for i in table.blank if i >= header_count]
    numbers: Sequence[int] = range(header_count + 1, table.count + 1)
    data = Data(numbers, columns)
    if blank:  # blank lines, e.g. at the end of the file
        kept = [True] * len(numbers)
        for i in blank:
            kept[i] = False
        data = data.keep(kept)
    if not len(data):
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


def _refuse_ragged(table: Table, header_count: int, width: int, filename: str) -> None:
    """The first data row with a value beyond the header's last column, if any."""
    first = None
    for column in table.columns[width:]:
        if column.count("") == len(column):
            continue
        found = next((i for i in range(header_count, table.count) if column[i]), None)
        if found is not None and (first is None or found < first):
            first = found
    if first is None:
        return
    row = [column[first] for column in table.columns]
    extra = next(i for i in range(width, len(row)) if row[i])
    raise ImportProblem(
        f"this row has a value beyond the header's last column ({column_letter(width - 1)}): "
        f"{len(_trimmed(row))} cells for {width} columns — an unquoted delimiter or a stray "
        "quote inside an answer?",
        file=filename,
        row=first + 1,
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
    columns = plan.data.columns
    respondents = Respondents(
        plan.ids, plan.data.numbers, [(name, columns[i]) for name, i in plan.attributes]
    )
    questions = [
        RawQuestion(
            export_id=q.export_id,
            text=q.text,
            columns=[
                RawColumn(c.name, columns[c.index], c.role, c.choice, c.choice_code, c.index)
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


def _refuse_bad_ids(plan: SurveyPlan) -> None:
    ids = plan.ids
    if "" not in ids and max(map(len, ids)) <= MAX_EXPORT_ID and len(set(ids)) == len(ids):
        return  # the usual case, checked in C; the loop below finds the first bad row
    seen: dict[str, int] = {}
    for export_id, number in zip(ids, plan.data.numbers, strict=True):
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
