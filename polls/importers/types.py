"""What the importers hand each other: raw columns, question specs, answers.

The pipeline is
  bytes --read_table--> rows --layout reader--> RawSurvey
        --infer (+ schema overrides)--> QuestionSpec per question
        --interpret--> ParsedAnswer per respondent and question
        --polls.loading.load_poll--> database rows (one transaction).
Everything before loading is pure (no database), so the preview page can run it
as often as the researcher changes a kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field


class ImportProblem(Exception):
    """Bad input, named by file, row and column so the researcher can find it."""

    def __init__(self, message: str, *, file: str = "", row: int | None = None, column: str = ""):
        self.message = message
        self.file = file
        self.row = row
        self.column = column
        super().__init__(str(self))

    def __str__(self) -> str:
        where = [self.file or "the file"]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        return f"{', '.join(where)}: {self.message}"


@dataclass
class RawColumn:
    """One column of the export that belongs to a question."""

    name: str  # header as written in row 1, e.g. "Q35_7_TEXT"
    cells: list[str]  # one per kept respondent, stripped; "" when empty
    role: str = "main"  # "main" | "choice" (one column per choice) | "other" (other text)
    choice: str = ""  # for role "choice": the choice's text; for "other": the choice id/text
    choice_code: str = ""  # the export's choice id (Qualtrics choiceId), when known
    index: int | None = None  # 0-based position in the file, so messages can say "column D"


@dataclass
class RawQuestion:
    export_id: str  # "Q4", "Q1.2", "Q35"
    text: str  # question text (row 2 for Qualtrics, header for plain tables)
    columns: list[RawColumn]
    is_text_entry: bool = False  # the export says so (Qualtrics ImportId ending _TEXT)
    known_options: list[str] = field(default_factory=list)  # choice texts the export names
    multi_separator: str = ","  # how one cell joins several choices (",", ";", ", ")


@dataclass
class RawRespondent:
    export_id: str
    row: int  # 1-based line/row number in the file, for messages
    attributes: dict[str, str]


@dataclass
class RawSurvey:
    platform: str  # a polls.models.Poll.Platform value
    filename: str
    respondents: list[RawRespondent]
    questions: list[RawQuestion]
    attribute_columns: list[str]
    skipped_previews: int = 0


@dataclass
class OptionSpec:
    text: str
    code: str = ""
    is_other: bool = False


@dataclass
class QuestionSpec:
    """What a question is: inferred, then corrected by a schema or the preview page."""

    export_id: str
    text: str
    kind: str  # a polls.models.Question.Kind value
    options: list[OptionSpec] = field(default_factory=list)
    scale_min: int | None = None
    scale_max: int | None = None
    scale_min_label: str = ""
    scale_max_label: str = ""
    max_choices: int | None = None
    subsample: str = ""


@dataclass
class ParsedAnswer:
    respondent: int  # index into RawSurvey.respondents
    value: float | None = None
    text: str = ""
    other_text: str = ""
    options: list[int] = field(default_factory=list)  # indexes into QuestionSpec.options
