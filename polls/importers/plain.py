"""A plain table: one header row, one response per row (CSV, TSV or XLSX).

Which column is what:
- the respondent id is the column named ResponseId, response_id, Respondent ID,
  respondent_id, id… (case, spaces and punctuation ignored); without one,
  respondents are named by spreadsheet row: R2, R3…
- timestamps (Timestamp, Start date, Submitted…) are dropped;
- a column is a respondent attribute, not a question, when its header does not
  end with "?" and either
  * its header is a common attribute name (Role, Region, Team, Gender, Age,
    Age group, Organisation, Job title, Department, Session… see
    ATTRIBUTE_NAMES), or
  * its header is short (at most three words, no digits) and its values look
    like categories: at least ATTRIBUTE_MIN_ROWS answers, at most
    ATTRIBUTE_MAX_VALUES distinct values, each short, not a number, and not
    the points of an answer scale (Often/Never, Agree/Disagree, Yes/No).
  This is conservative on purpose: a question wrongly taken for an attribute
  disappears from the coding, while an attribute taken for a question only
  shows up as an extra single-choice question. A header that looks like a
  question id (`Q4`, `q1.2`) is always a question.
- every other column is a question. Its id is the header when every question
  header looks like an id (`Q4`, `q1.2`) or starts with one (`Q4. How…`, `Q4:`),
  else Q1, Q2… in column order with the header as its text.
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
    refuse_duplicate_names,
    split_rows,
)
from polls.importers.constants import SPREADSHEET
from polls.importers.options import is_answer_scale
from polls.importers.table import Table, column_ref
from polls.importers.types import RawSurvey

ID_NAMES = {"responseid", "respondentid", "respid", "id", "recordid", "participantid"}
TIME_NAMES = {
    "timestamp", "startdate", "enddate", "starttime", "endtime", "completiontime",
    "submitted", "submittedat", "submissiondate", "date", "recordeddate",
}  # fmt: skip
ATTRIBUTE_NAMES = {
    "role", "jobrole", "jobtitle", "grade", "band", "region", "area", "country", "location",
    "site", "office", "team", "service", "department", "dept", "division", "unit",
    "directorate", "organisation", "organization", "org", "employer", "localauthority",
    "sector", "gender", "sex", "age", "agegroup", "ageband", "agerange", "ethnicity",
    "tenure", "yearsinrole", "yearsofexperience", "segment", "cohort", "wave", "session",
    "event",
}  # fmt: skip
ATTRIBUTE_MIN_ROWS = 10
ATTRIBUTE_MAX_VALUES = 12
ATTRIBUTE_MAX_VALUE_LENGTH = 40
ID_HEADER = re.compile(r"^[Qq]\d+(?:[._]\d+)*[a-z]?$")
ID_PREFIX = re.compile(r"^(?P<id>[Qq]\d+(?:[._]\d+)*[a-z]?)\s*[.:)\-–]\s*(?P<text>\S.*)$")
NUMBER = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def key(name: str) -> str:
    """ "Respondent ID" and "respondent_id" alike: casefolded letters and digits only."""
    return re.sub(r"[\W_]+", "", name.casefold())


def read(table: Table, filename: str, *, include_previews: bool = False) -> RawSurvey:
    headers, data = split_rows(table, 1, filename)
    names = headers[0]
    refuse_duplicate_names(names, filename, casefold=True)
    id_index = next((i for i, n in enumerate(names) if key(n) in ID_NAMES), None)
    attributes: list[tuple[str, int]] = []
    question_columns: list[int] = []
    for index, name in enumerate(names):
        if index == id_index or key(name) in TIME_NAMES:
            continue
        cells = data.columns[index]
        if not name and not any(cells):
            continue  # an empty column
        if is_attribute(name, cells):
            attributes.append((name, index))
        else:
            question_columns.append(index)
    return assemble(
        SurveyPlan(
            platform=SPREADSHEET,
            filename=filename,
            data=data,
            ids=_ids(data, id_index),
            id_column=column_ref(id_index, names[id_index]) if id_index is not None else "",
            questions=_questions(names, question_columns),
            attributes=attributes,
        )
    )


def _ids(data: Data, id_index: int | None) -> list[str]:
    if id_index is None:
        return [f"R{number}" for number in data.numbers]
    return data.columns[id_index]


def is_attribute(name: str, cells: list[str]) -> bool:
    if not name or name.rstrip().endswith("?") or ID_HEADER.match(name):
        return False
    if key(name) in ATTRIBUTE_NAMES:
        return True
    if len(name.split()) > 3 or any(ch.isdigit() for ch in name):
        return False
    values = [c for c in cells if c]
    if len(values) < ATTRIBUTE_MIN_ROWS:
        return False
    distinct = set(values)
    if is_answer_scale(distinct):
        return False  # "Very satisfied"…: answers to a question, not who answered
    return len(distinct) <= ATTRIBUTE_MAX_VALUES and all(
        len(v) <= ATTRIBUTE_MAX_VALUE_LENGTH and not NUMBER.match(v) for v in distinct
    )


def _questions(names: list[str], indexes: list[int]) -> list[QuestionPlan]:
    parsed = [_id_and_text(names[i]) for i in indexes]
    ids = [qid for qid, _ in parsed]
    use_header_ids = all(ids) and len(set(ids)) == len(ids)
    plans = []
    for position, (index, (qid, text)) in enumerate(zip(indexes, parsed, strict=True), start=1):
        if not use_header_ids:
            qid, text = f"Q{position}", clean_label(names[index])
        plans.append(QuestionPlan(qid, text, [ColumnPlan(index, names[index] or qid)]))
    return plans


def _id_and_text(header: str) -> tuple[str, str]:
    """("Q4", "How…") from "Q4. How…"; ("Q4", "Q4") from "Q4"; ("", header) otherwise."""
    if ID_HEADER.match(header):
        return header, header
    m = ID_PREFIX.match(header)
    if m:
        return m["id"], clean_label(m["text"])
    return "", clean_label(header)
