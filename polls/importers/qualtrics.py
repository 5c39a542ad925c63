"""Qualtrics response exports (CSV, TSV or XLSX).

Header rows (research/formats.md §1):
- modern: row 1 export tags (`Q4`, `Q1.2`, `StartDate`), row 2 labels (question
  texts, localised, maybe with HTML), row 3 ImportId JSON (`{"ImportId":"QID4"}`);
- modern without the ImportId row (some XLSX downloads): rows 1 and 2;
- legacy (before 2017): row 1 `V1`…`V10` then tags, row 2 labels in which the
  metadata columns are named (`ResponseID`, `Status`…), a trailing comma.

Every column is classified by its name or ImportId, never by its position:
anonymised surveys leave out IPAddress, Recipient*, Location*.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field

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
from polls.importers.constants import QUALTRICS
from polls.importers.table import Rows, Table, column_letter, column_ref
from polls.importers.types import ImportProblem, RawSurvey

IMPORT_ID_CELL = re.compile(r'^\{\s*"ImportId"\s*:')
RESPONSE_ID = re.compile(r"^R_\w+$")
DATE_START = re.compile(r"^\d{1,4}[-/.]\d")

# Row-1 names of metadata (casefolded); Q_BallotBoxStuffing & co. match META_PREFIX.
META_NAMES = {
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recordeddate", "responseid", "recipientlastname", "recipientfirstname",
    "recipientemail", "externalreference", "externaldatareference", "locationlatitude",
    "locationlongitude", "locationaccuracy", "distributionchannel", "userlanguage",
    "responseset", "name", "emailaddress",
}  # fmt: skip
META_PREFIX = re.compile(r"^Q_[A-Za-z]")
META_IMPORT_IDS = {
    "startdate", "enddate", "status", "ipaddress", "progress", "duration", "finished",
    "recordeddate", "_recordid", "recipientlastname", "recipientfirstname", "recipientemail",
    "externaldatareference", "locationlatitude", "locationlongitude", "distributionchannel",
    "userlanguage",
}  # fmt: skip
LEGACY_COLUMN = re.compile(r"^V\d+$")
# Status labels and codes of responses that are not real (Qualtrics "Response Type").
PREVIEW_STATUS = {
    "survey preview", "survey test", "spam", "preview spam", "offline preview",
    "1", "2", "8", "9", "17",
}  # fmt: skip
PREVIEW_CHANNELS = {"preview", "test"}

QID = re.compile(r"^(?P<key>(?:\d+_)?QID\d+)(?P<rest>.*)$")
OTHER_SUFFIX = re.compile(r"^_(?P<n>\d+)_TEXT$")
SUB_SUFFIX = re.compile(r"^_\d+(?:_\d+)*$")
NAME_OTHER = re.compile(r"^(?P<base>.+?)_(?P<n>\d+)_TEXT$")
NAME_SUB = re.compile(r"^(?P<base>.+?)_\d+$")
QUESTION_TAG = re.compile(r"^(?:\d+_)?Q\d+(?:[._]\d+)*(?:_TEXT)?$")
# NPS groups, display order, Text iQ ("Q3.8 - Topics", "- Sentiment"): attributes.
DERIVED_NAME = re.compile(r"_NPS_GROUP$|_DO$| - ")
SELECTED = " - Selected Choice"
TICKED_CODES = {"1"}


@dataclass
class Column:
    index: int
    name: str  # row 1 (for legacy V columns, the row-2 metadata name)
    label: str  # row 2, without HTML
    import_id: str = ""
    choice_id: str = ""
    is_meta: bool = False  # a legacy V1…V10 column


@dataclass
class Group:
    """The columns of one question, as the export ties them together."""

    key: str
    main: Column | None = None
    text: Column | None = None  # the column of a text-entry question
    choices: list[Column] = field(default_factory=list)
    others: list[tuple[Column, str]] = field(default_factory=list)  # (column, choice id)
    subs: list[Column] = field(default_factory=list)  # Q5_1, Q5_2…: breakout or matrix rows


def header_count(rows: Rows) -> int:
    """3, 2 or 1 header rows, or 0 when the rows are not a Qualtrics export."""
    if len(rows) >= 3 and _is_import_id_row(rows[2]):
        return 3
    first = [c.casefold() for c in rows[0]] if rows else []
    if len(rows) >= 2 and first[:2] == ["v1", "v2"]:
        return 2 if "responseid" in {c.casefold() for c in rows[1]} else 0
    if "responseid" in first and {"startdate", "status", "recordeddate"} & set(first):
        second = rows[1] if len(rows) > 1 else []
        return 1 if _is_response(first, second) else 2
    return 0


def _is_response(names: list[str], row: list[str]) -> bool:
    """Row 2 holds a response, not labels (someone deleted the label rows in Excel)."""
    cells = dict(zip(names, row, strict=False))
    if RESPONSE_ID.match(cells.get("responseid", "")):
        return True
    return any(DATE_START.match(cells.get(name, "")) for name in ("startdate", "recordeddate"))


def _is_import_id_row(row: list[str]) -> bool:
    cells = [c for c in row if c]
    return bool(cells) and sum(1 for c in cells if IMPORT_ID_CELL.match(c)) * 2 >= len(cells)


def read(table: Table, filename: str, *, include_previews: bool = False) -> RawSurvey:
    count = header_count(table.head)
    if not count:
        raise ImportProblem(
            'this is not a Qualtrics export: row 3 holds no ImportIds ({"ImportId":…}) and '
            "row 1 no ResponseId",
            file=filename,
            row=3 if table.count >= 3 else 1,
        )
    headers, data = split_rows(table, count, filename)
    columns = _columns(headers, count)
    refuse_duplicate_names([c.name for c in columns], filename)
    id_col = _find(columns, "responseid", "_recordid")
    if id_col is None:
        raise ImportProblem(
            "no ResponseId column: Qualtrics exports name each response by it",
            file=filename,
            row=1,
        )
    kept, skipped = _drop_previews(columns, data, include_previews)
    if not len(kept):
        raise ImportProblem(
            f"all {skipped} responses are survey previews, tests or spam; include previews "
            "to import them anyway",
            file=filename,
            row=count + 1,
        )
    questions, attributes = _plan_columns(columns, kept, with_import_ids=count == 3)
    return assemble(
        SurveyPlan(
            platform=QUALTRICS,
            filename=filename,
            data=kept,
            ids=kept.columns[id_col.index],
            id_column=column_ref(id_col.index, id_col.name),
            questions=questions,
            attributes=[(c.name, c.index) for c in attributes],
            skipped_previews=skipped,
        )
    )


def _columns(headers: Rows, count: int) -> list[Column]:
    names = headers[0]
    labels = headers[1] if count > 1 else names
    legacy = [n.casefold() for n in names[:2]] == ["v1", "v2"]
    columns = []
    for i, name in enumerate(names):
        label = clean_label(labels[i])
        is_meta = legacy and bool(LEGACY_COLUMN.match(name))
        if is_meta:
            name = labels[i] or name  # legacy metadata is named in row 2
        elif not name:
            name = f"Column {column_letter(i)}"  # an unnamed column that holds data
        import_id, choice_id = _import_id(headers[2][i]) if count == 3 else ("", "")
        columns.append(Column(i, name, label, import_id, choice_id, is_meta))
    return columns


def _import_id(cell: str) -> tuple[str, str]:
    try:
        value = json.loads(cell) if cell else {}
    except ValueError:
        return "", ""
    if not isinstance(value, dict):
        return "", ""
    return str(value.get("ImportId", "")), str(value.get("choiceId", ""))


def _find(columns: list[Column], name: str, import_id: str) -> Column | None:
    return next(
        (c for c in columns if c.name.casefold() == name or c.import_id.casefold() == import_id),
        None,
    )


def _is_meta(column: Column) -> bool:
    return (
        column.name.casefold() in META_NAMES
        or column.import_id.casefold() in META_IMPORT_IDS
        or bool(META_PREFIX.match(column.name))
        or column.is_meta
    )


def _drop_previews(columns: list[Column], data: Data, include_previews: bool) -> tuple[Data, int]:
    if include_previews:
        return data, 0
    status = _find(columns, "status", "status")
    channel = _find(columns, "distributionchannel", "distributionchannel")
    kept: list[bool] | None = None
    for column, values in ((status, PREVIEW_STATUS), (channel, PREVIEW_CHANNELS)):
        if column is None:
            continue
        cells = data.columns[column.index]
        dropped = {v for v in set(cells) if v.casefold() in values}
        if dropped:
            keep = [cell not in dropped for cell in cells]
            kept = keep if kept is None else [a and b for a, b in zip(kept, keep, strict=True)]
    if kept is None:
        return data, 0
    data_kept = data.keep(kept)
    return data_kept, len(data) - len(data_kept)


def _plan_columns(
    columns: list[Column], kept: Data, *, with_import_ids: bool
) -> tuple[list[QuestionPlan], list[Column]]:
    groups: dict[str, Group] = {}
    attributes: list[Column] = []
    for column in columns:
        if _is_meta(column):
            continue
        placed = (
            _place_by_import_id(column, groups)
            if with_import_ids
            else _place_by_name(column, groups)
        )
        if not placed:
            attributes.append(column)
    plans: list[QuestionPlan] = []
    for group in groups.values():
        plans.extend(_plan_group(group, kept))
    plans.sort(key=lambda p: min(c.index for c in p.columns))
    return plans, attributes


def _group(groups: dict[str, Group], key: str) -> Group:
    if key not in groups:
        groups[key] = Group(key)
    return groups[key]


def _place_by_import_id(column: Column, groups: dict[str, Group]) -> bool:
    m = QID.match(column.import_id)
    if not m:
        return False  # embedded data, e.g. {"ImportId":"Role"}
    group = _group(groups, m["key"])
    rest = m["rest"]
    if rest == "" and column.choice_id:
        group.choices.append(column)
    elif rest == "":
        group.main = column
    elif rest == "_TEXT":
        group.text = column
    elif other := OTHER_SUFFIX.match(rest):
        group.others.append((column, other["n"]))
    elif SUB_SUFFIX.match(rest):
        group.subs.append(column)
    else:
        return False  # _NPS_GROUP, Text iQ "_TEXT_…Topics", timing "_FIRST_CLICK"…
    return True


def _place_by_name(column: Column, groups: dict[str, Group]) -> bool:
    """Without ImportIds the export tags are all there is (legacy, 2-row XLSX)."""
    name = column.name
    if not name or DERIVED_NAME.search(name):
        return False
    if column.label == name and not QUESTION_TAG.match(name):
        return False  # embedded data: Qualtrics labels it with its own name
    if other := NAME_OTHER.match(name):
        _group(groups, other["base"]).others.append((column, other["n"]))
    elif name.endswith("_TEXT"):
        _group(groups, name[: -len("_TEXT")]).text = column
    elif sub := NAME_SUB.match(name):
        _group(groups, sub["base"]).subs.append(column)
    else:
        _group(groups, name).main = column
    return True


def _plan_group(group: Group, kept: Data) -> list[QuestionPlan]:
    plans: list[QuestionPlan] = []
    if group.subs:
        if not group.choices and _is_breakout(group.subs, kept):
            group.choices = group.subs
        else:
            plans.extend(_sub_question(c) for c in group.subs)  # matrix rows, sliders
    main = group.main or group.text
    if group.main and group.text:
        group.others.append((group.text, ""))  # unusual; keep its texts as "other" texts
    if main is None and not group.choices:
        # "Other" texts of a question that is not in the file: text questions of their own.
        plans.extend(_text_question(c) for c, _ in group.others)
        return plans
    plans.append(_choice_question(group, main, kept))
    return plans


def _sub_question(column: Column) -> QuestionPlan:
    return QuestionPlan(
        column.name, _question_text(column.label), [ColumnPlan(column.index, column.name)]
    )


def _text_question(column: Column) -> QuestionPlan:
    return QuestionPlan(
        column.name,
        _question_text(column.label),
        [ColumnPlan(column.index, column.name)],
        is_text_entry=True,
    )


def _choice_question(group: Group, main: Column | None, kept: Data) -> QuestionPlan:
    text = _question_text(main.label) if main else ""
    columns = []
    if main:
        columns.append(ColumnPlan(main.index, main.name))
    known: list[str] = []
    if group.choices:
        text, choices = _split_choice_labels([c.label for c in group.choices], text)
        for column, choice in zip(group.choices, choices, strict=True):
            choice = choice or _ticked_value(column, kept)
            known.append(choice)
            columns.append(ColumnPlan(column.index, column.name, "choice", choice, _code(column)))
    for column, number in group.others:
        columns.append(
            ColumnPlan(
                column.index, column.name, "other", _other_choice(column.label, text), number
            )
        )
    export_id = main.name if main else NAME_SUB.sub(r"\g<base>", group.choices[0].name)
    return QuestionPlan(
        export_id,
        text,
        columns,
        is_text_entry=main is group.text and main is not None,
        known_options=list(dict.fromkeys(k for k in known if k)),
        multi_separator=",",
    )


def _code(column: Column) -> str:
    if column.choice_id:
        return column.choice_id
    m = re.search(r"_(\d+)$", column.import_id or column.name)
    return m.group(1) if m else ""


def _question_text(label: str) -> str:
    return label.removesuffix(SELECTED)


def _split_choice_labels(labels: list[str], main_text: str) -> tuple[str, list[str]]:
    """Question text and choice texts from breakout labels.

    `<question> - Selected Choice - <choice>` says where the choice starts;
    without the marker the choices follow the labels' common `<question> - `.
    """
    marker = SELECTED + " - "
    if all(marker in label for label in labels):
        parts = [label.split(marker, 1) for label in labels]
        return main_text or parts[0][0], [p[1] for p in parts]
    prefix = main_text + " - " if main_text else _common_question(labels)
    if prefix and all(label.startswith(prefix) for label in labels):
        return prefix.removesuffix(" - "), [label[len(prefix) :] for label in labels]
    parts = [label.split(" - ", 1) for label in labels]
    return main_text or parts[0][0], [p[1] if len(p) > 1 else "" for p in parts]


def _common_question(labels: list[str]) -> str:
    if len(labels) < 2:
        return ""
    prefix = os.path.commonprefix(labels)
    cut = prefix.rfind(" - ")
    return prefix[: cut + 3] if cut > 0 else ""


def _other_choice(label: str, question_text: str) -> str:
    """ "Team? - Other - Text" → "Other"."""
    label = label.removesuffix(" - Text")
    if question_text and label.startswith(question_text + " - "):
        return label[len(question_text) + 3 :].removeprefix("Selected Choice - ")
    return label.rsplit(" - ", 1)[-1] if " - " in label else ""


def _ticked_value(column: Column, kept: Data) -> str:
    """A choice's text from its cells, when its label does not give it."""
    cells = kept.columns[column.index]
    return next((v for v in dict.fromkeys(cells) if v and v not in TICKED_CODES), "")


def _is_breakout(columns: list[Column], kept: Data) -> bool:
    """Q35_1, Q35_2… are one multi-select question, not rows of a matrix.

    The label says "Selected Choice", or every ticked cell holds the column's
    own choice text or 1; matrix rows and sliders hold scale points instead.
    """
    if any("selected choice" in c.label.casefold() for c in columns):
        return True
    _, choices = _split_choice_labels([c.label for c in columns], "")
    seen_text = False
    for column, choice in zip(columns, choices, strict=True):
        allowed = {choice.casefold(), *TICKED_CODES} if choice else set(TICKED_CODES)
        values = {v.casefold() for v in set(kept.columns[column.index])} - {""}
        if not values <= allowed:
            return False
        seen_text = seen_text or bool(values - TICKED_CODES)
    # Only 1s are ambiguous (a slider everyone set to 1): trust labels with choices.
    return seen_text or all(choices)
