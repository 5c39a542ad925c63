"""The `--schema` file: corrections to what inference guessed, question by question.

    {"questions": [
      {"id": "Q14", "kind": "multi_choice", "options": ["…", "…"], "max_choices": 3},
      {"id": "Q2", "kind": "scale", "min": 1, "max": 10,
       "labels": ["not effective at all", "very effective"]},
      {"id": "Q4", "kind": "free_text", "subsample": "Those who answered Yes to Q3"}]}

An option is a text or {"text": …, "code": …, "is_other": …}. The preview page
builds the same shape from its form, so `validate` accepts a dict as well as
the file; it returns {"file": name, "questions": [entries with options as dicts]},
which it accepts again.
"""

from __future__ import annotations

import json
import re
from typing import NoReturn

from polls.importers.constants import KINDS, MAX_OPTION_TEXT, MAX_SCALE_LABEL
from polls.importers.decode import decode
from polls.importers.types import ImportProblem, RawQuestion, RawSurvey

FIELDS = ("id", "kind", "options", "min", "max", "labels", "max_choices", "subsample")
OPTION_FIELDS = ("text", "code", "is_other")
DEFAULT_NAME = "the schema"


def parse_schema(data: bytes, filename: str) -> dict:
    text = decode(data, filename)
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as e:
        raise ImportProblem(
            f"this is not valid JSON: {e.msg}", file=filename, row=e.lineno, column=str(e.colno)
        ) from None
    return validate(raw, filename, text)


def validate(raw: object, filename: str = "", text: str = "") -> dict:
    """Check a schema's shape; messages name the question, its line and the field."""
    if isinstance(raw, dict) and "file" in raw and not filename:
        filename = str(raw["file"])
    filename = filename or DEFAULT_NAME
    if not isinstance(raw, dict) or not isinstance(raw.get("questions"), list):
        raise ImportProblem('a schema is an object {"questions": [ … ]}', file=filename, row=1)
    unknown = set(raw) - {"questions", "file"}
    if unknown:
        _fail(f"unknown key {sorted(unknown)[0]!r}; a schema has only questions", filename, 1)
    entries = []
    seen: set[str] = set()
    for position, entry in enumerate(raw["questions"], start=1):
        checked = _entry(entry, position, filename, text)
        if checked["id"] in seen:
            _fail(
                f"question {checked['id']!r} is listed twice",
                filename,
                _line(text, checked["id"]),
                "id",
            )
        seen.add(checked["id"])
        entries.append(checked)
    return {"file": filename, "questions": entries}


def overrides_for(survey: RawSurvey, schema: dict | None) -> dict[str, dict]:
    """Schema entries by question id; an id the survey lacks is an error."""
    if not schema:
        return {}
    checked = validate(schema)
    questions = {q.export_id: q for q in survey.questions}
    folded = {q.export_id.casefold(): q for q in survey.questions}
    found: dict[str, dict] = {}
    for entry in checked["questions"]:
        question: RawQuestion | None = questions.get(entry["id"]) or folded.get(
            entry["id"].casefold()
        )
        if question is None:
            ids = ", ".join(list(questions)[:12]) + (" …" if len(questions) > 12 else "")
            _fail(
                f"the schema names question {entry['id']!r}, which is not in {survey.filename} "
                f"(its questions are {ids or 'none'})",
                checked["file"],
                entry.get("_line"),
                "id",
            )
        found[question.export_id] = entry
    return found


def _entry(entry: object, position: int, filename: str, text: str) -> dict:
    if not isinstance(entry, dict):
        _fail(f"question {position} of the schema is not an object", filename, None)
    qid = entry.get("id")
    if not isinstance(qid, str) or not qid.strip():
        _fail(f'question {position} of the schema has no "id"', filename, None, "id")
    qid = qid.strip()
    line = entry.get("_line") or _line(text, qid)
    where = (filename, line)
    unknown = set(entry) - set(FIELDS) - {"_line"}
    if unknown:
        field = sorted(unknown)[0]
        _fail(
            f"question {qid!r}: unknown field {field!r} (known: {', '.join(FIELDS)})", *where, field
        )
    checked: dict = {"id": qid, "_line": line}
    if "kind" in entry:
        if entry["kind"] not in KINDS:
            _fail(
                f"question {qid!r}: unknown kind {entry['kind']!r} (use {', '.join(KINDS)})",
                *where,
                "kind",
            )
        checked["kind"] = entry["kind"]
    if entry.get("options") is not None:
        checked["options"] = _options(entry["options"], qid, where)
    for field in ("min", "max"):
        if entry.get(field) is not None:
            checked[field] = _integer(entry[field], qid, field, where)
    if "min" in checked and "max" in checked and checked["min"] >= checked["max"]:
        _fail(f"question {qid!r}: min must be below max", *where, "min")
    if entry.get("labels") is not None:
        checked["labels"] = _labels(entry["labels"], qid, where)
    if entry.get("max_choices") is not None:
        checked["max_choices"] = _integer(entry["max_choices"], qid, "max_choices", where)
        if checked["max_choices"] < 1:
            _fail(f"question {qid!r}: max_choices must be at least 1", *where, "max_choices")
    if "subsample" in entry:
        if not isinstance(entry["subsample"], str):
            _fail(f"question {qid!r}: subsample must be a text", *where, "subsample")
        checked["subsample"] = entry["subsample"].strip()[:500]
    return checked


def _options(options: object, qid: str, where: tuple) -> list[dict]:
    if not isinstance(options, list):
        _fail(f"question {qid!r}: options must be a list of texts", *where, "options")
    checked: list[dict] = []
    seen: set[str] = set()
    for option in options:
        item = {"text": option} if isinstance(option, str) else option
        if not isinstance(item, dict) or not isinstance(item.get("text"), str):
            _fail(f"question {qid!r}: each option is a text", *where, "options")
        if set(item) - set(OPTION_FIELDS):
            _fail(
                f"question {qid!r}: an option has only {', '.join(OPTION_FIELDS)}",
                *where,
                "options",
            )
        option_text = item["text"].strip()
        if not option_text or len(option_text) > MAX_OPTION_TEXT:
            _fail(
                f"question {qid!r}: option texts must have 1 to {MAX_OPTION_TEXT} characters",
                *where,
                "options",
            )
        if option_text.casefold() in seen:
            _fail(f"question {qid!r}: option {option_text!r} is listed twice", *where, "options")
        seen.add(option_text.casefold())
        checked.append(
            {
                "text": option_text,
                "code": str(item.get("code") or "").strip(),
                "is_other": bool(item.get("is_other", False)),
            }
        )
    if not checked:
        _fail(f"question {qid!r}: options is empty", *where, "options")
    return checked


def _integer(value: object, qid: str, field: str, where: tuple) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        _fail(f"question {qid!r}: {field} must be a whole number", *where, field)
    return value


def _labels(labels: object, qid: str, where: tuple) -> list[str]:
    ok = isinstance(labels, list) and len(labels) == 2 and all(isinstance(x, str) for x in labels)
    if not ok:
        _fail(
            f'question {qid!r}: labels must be two texts, ["low end", "high end"]', *where, "labels"
        )
    return [label.strip()[:MAX_SCALE_LABEL] for label in labels]


def _line(text: str, qid: str) -> int | None:
    """The line of the schema file where the question's id is written."""
    if not text:
        return None
    m = re.search(r'"id"\s*:\s*' + re.escape(json.dumps(qid)), text)
    return text.count("\n", 0, m.start()) + 1 if m else None


def _fail(message: str, filename: str, row: int | None, column: str = "") -> NoReturn:
    raise ImportProblem(message, file=filename, row=row, column=column)
