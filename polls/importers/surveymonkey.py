"""SurveyMonkey "All individual responses" exports (CSV or XLSX).

Two header rows (research/formats.md §2.1). Row 1: metadata names, then each
question's text over the first of its columns only (so it is carried right).
Row 2: blank under metadata; `Response` (one answer), `Open-Ended Response`
(a text box or comment field), the other-option label (`Other (please
specify)`), or one choice text per checkbox column, or one row text per
matrix column. Questions are numbered Q1, Q2… in column order.
"""

from __future__ import annotations

import re

from polls.importers.common import (
    ColumnPlan,
    Data,
    QuestionPlan,
    SurveyPlan,
    assemble,
    clean_label,
    find_column,
    split_rows,
)
from polls.importers.constants import SURVEYMONKEY
from polls.importers.table import Rows, Table, column_ref
from polls.importers.types import ImportProblem, RawSurvey

METADATA = {
    "respondent id", "collector id", "start date", "end date", "ip address", "email address",
    "first name", "last name",
}  # fmt: skip
RESPONSE = "response"
OPEN_ENDED = "open-ended response"
OTHER_LABEL = re.compile(r"^other\b", re.IGNORECASE)
TICKED_CODES = {"1"}

Column = tuple[int, str]  # (index, row-2 label)


def matches(rows: Rows) -> bool:
    first = {c.casefold() for c in rows[0]} if rows else set()
    return {"respondent id", "collector id"} <= first


def read(table: Table, filename: str, *, include_previews: bool = False) -> RawSurvey:
    headers, data = split_rows(table, 2, filename)
    top, labels = headers
    id_index = find_column(top, "Respondent ID")
    if id_index is None:
        raise ImportProblem("no Respondent ID column", file=filename, row=1)
    groups, attributes = _group_columns(top, labels)
    questions: list[QuestionPlan] = []
    for number, (title, indexes) in enumerate(groups, start=1):
        columns = [(i, labels[i]) for i in indexes]
        questions.extend(_plan_question(f"Q{number}", clean_label(title), columns, data))
    return assemble(
        SurveyPlan(
            platform=SURVEYMONKEY,
            filename=filename,
            data=data,
            ids=data.columns[id_index],
            id_column=column_ref(id_index, "Respondent ID"),
            questions=questions,
            attributes=attributes,
        )
    )


def _group_columns(
    top: list[str], labels: list[str]
) -> tuple[list[tuple[str, list[int]]], list[tuple[str, int]]]:
    """Questions as (text, column indexes); other named columns as attributes."""
    groups: list[tuple[str, list[int]]] = []
    attributes: list[tuple[str, int]] = []
    current: list[int] | None = None
    for i, (title, label) in enumerate(zip(top, labels, strict=True)):
        if title and not label:
            current = None  # metadata or custom data: named in row 1 only
            if title.casefold() not in METADATA:
                attributes.append((title, i))
        elif title:
            current = [i]
            groups.append((title, current))
        elif current is not None:
            current.append(i)
    return groups, attributes


def _plan_question(qid: str, text: str, columns: list[Column], data: Data) -> list[QuestionPlan]:
    if len(columns) == 1:
        index, label = columns[0]
        is_text = label.casefold() == OPEN_ENDED
        return [QuestionPlan(qid, text, [ColumnPlan(index, qid)], is_text_entry=is_text)]
    main = [c for c in columns if c[1].casefold() == RESPONSE]
    comments = [c for c in columns if c[1].casefold() == OPEN_ENDED]
    rest = [c for c in columns if c not in main and c not in comments]
    others = [c for c in rest if OTHER_LABEL.match(c[1]) and not _holds_only_choice(c, data)]
    candidates = [c for c in rest if c not in others]
    if all(_holds_only_choice(c, data) for c in candidates) and len(main) <= 1:
        # An open-ended column beside choices is a comment box, not the "other" text.
        question = _choice_question(qid, text, main, candidates, others)
        return [question, *_comment_questions(qid, text, comments)]
    # A matrix (one column per row statement) or several text boxes.
    return [
        QuestionPlan(
            f"{qid}_{k}",
            f"{text} - {label}",
            [ColumnPlan(index, f"{qid}_{k}")],
            is_text_entry=label.casefold() == OPEN_ENDED,
        )
        for k, (index, label) in enumerate(columns, start=1)
    ]


def _choice_question(
    qid: str, text: str, main: list[Column], choices: list[Column], others: list[Column]
) -> QuestionPlan:
    plans = [ColumnPlan(index, qid) for index, _ in main]
    plans += [ColumnPlan(index, f"{qid} - {label}", "choice", label) for index, label in choices]
    plans += [ColumnPlan(index, f"{qid} - {label}", "other", label) for index, label in others]
    return QuestionPlan(
        qid,
        text,
        plans,
        known_options=list(dict.fromkeys(label for _, label in choices)),
        multi_separator=",",
    )


def _comment_questions(qid: str, text: str, comments: list[Column]) -> list[QuestionPlan]:
    plans = []
    for k, (index, _) in enumerate(comments, start=1):
        cid = f"{qid}_comment" if k == 1 else f"{qid}_comment{k}"
        plans.append(
            QuestionPlan(cid, f"{text} - Comment", [ColumnPlan(index, cid)], is_text_entry=True)
        )
    return plans


def _holds_only_choice(column: Column, data: Data) -> bool:
    """A checkbox column holds its own choice text (or 1) when ticked, else nothing."""
    index, label = column
    allowed = {label.casefold(), *TICKED_CODES}
    return all(not v or v.casefold() in allowed for v in set(data.columns[index]))
