"""Survey-export parsers: pure functions from uploaded bytes to questions and answers.

    survey = read_survey(data, "export.csv")            # rows → RawSurvey
    specs = infer_specs(survey, parse_schema(b, "s.json"))  # kinds, options, scale ends
    answers = interpret(survey, specs)                  # one list per question

Nothing here touches the database (polls.loading does), so the preview page can
run it as often as the researcher corrects a kind. Every problem with the input
is an ImportProblem naming the file, row and column.

Modules: decode (bytes → text), table (text or XLSX → rows), detect (which
layout), qualtrics / surveymonkey / forms / plain (layouts → RawSurvey, via
common), infer with scales and options (kinds), interpret (cells → answers),
schema (the --schema file).
"""

from __future__ import annotations

from polls.importers import forms, plain, qualtrics, surveymonkey
from polls.importers.constants import (
    FORMATS,
    GOOGLE_FORMS,
    MICROSOFT_FORMS,
    QUALTRICS,
    SPREADSHEET,
    SURVEYMONKEY,
)
from polls.importers.detect import layout_for
from polls.importers.infer import infer_specs
from polls.importers.interpret import interpret
from polls.importers.schema import parse_schema
from polls.importers.table import read_columns
from polls.importers.types import (
    ImportProblem,
    OptionSpec,
    ParsedAnswer,
    QuestionSpec,
    RawColumn,
    RawQuestion,
    RawRespondent,
    RawSurvey,
)

__all__ = [
    "ImportProblem",
    "OptionSpec",
    "ParsedAnswer",
    "QuestionSpec",
    "RawColumn",
    "RawQuestion",
    "RawRespondent",
    "RawSurvey",
    "infer_specs",
    "interpret",
    "parse_schema",
    "read_survey",
]

READERS = {
    QUALTRICS: qualtrics.read,
    SURVEYMONKEY: surveymonkey.read,
    MICROSOFT_FORMS: forms.read_microsoft,
    GOOGLE_FORMS: forms.read_google,
    SPREADSHEET: plain.read,
}


def read_survey(
    data, filename: str, *, format: str = "auto", include_previews: bool = False
) -> RawSurvey:
    """Read an export into raw questions, respondents and attributes.

    data: the file's bytes, or a binary file object (read from its start, and
    again from its start if the text needs decoding whole).

    format: auto (detected from the header rows), qualtrics, surveymonkey, forms
    (Microsoft or Google), or csv / xlsx for a plain one-header-row table. The
    file type (CSV/TSV or XLSX) is told from the bytes and the name, except
    that csv and xlsx insist on theirs. include_previews keeps Qualtrics survey
    previews, tests and spam, which are otherwise skipped and counted.
    """
    if format not in FORMATS:
        raise ImportProblem(
            f"unknown format {format!r}; use one of {', '.join(FORMATS)}", file=filename
        )
    file_type = format if format in ("csv", "xlsx") else "auto"
    table = read_columns(data, filename, file_type)
    layout = layout_for(table.head, format, filename)
    return READERS[layout](table, filename, include_previews=include_previews)
