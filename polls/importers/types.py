"""What the importers hand each other: raw columns, question specs, answers.

The pipeline is
  bytes --read_columns--> Table --layout reader--> RawSurvey
        --infer (+ schema overrides)--> QuestionSpec per question
        --interpret--> Answers (ParsedAnswer per respondent) per question
        --polls.loading.load_poll--> database rows (one transaction).
Everything before loading is pure (no database), so the preview page can run it
as often as the researcher changes a kind.

A 100,000-row export has millions of cells, so the bulky parts are stored by
column: a RawColumn's cells, the survey's Respondents and a question's Answers.
The latter two still read as sequences of RawRespondent and ParsedAnswer.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import compress


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


class Respondents(Sequence[RawRespondent]):
    """The kept responses by column: ids, spreadsheet rows and attribute cells."""

    __slots__ = ("attributes", "ids", "rows")

    def __init__(
        self, ids: list[str], rows: Sequence[int], attributes: list[tuple[str, list[str]]]
    ):
        self.ids = ids
        self.rows = rows
        self.attributes = attributes  # (name, one cell per respondent)

    def __len__(self) -> int:
        return len(self.ids)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return RawRespondent(self.ids[index], self.rows[index], self.attributes_of(index))

    def __iter__(self) -> Iterator[RawRespondent]:
        return map(self.__getitem__, range(len(self)))

    def attributes_of(self, index: int) -> dict[str, str]:
        return {name: cells[index] for name, cells in self.attributes if cells[index]}


@dataclass
class RawSurvey:
    platform: str  # a polls.models.Poll.Platform value
    filename: str
    respondents: Respondents
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


@dataclass(slots=True)
class ParsedAnswer:
    respondent: int  # index into RawSurvey.respondents
    value: float | None = None
    text: str = ""
    other_text: str = ""
    options: list[int] = field(default_factory=list)  # indexes into QuestionSpec.options


class Answers(Sequence[ParsedAnswer]):
    """One question's answers by column, one entry per respondent who answered.

    respondents holds indexes into RawSurvey.respondents in file order (an
    array of 4-byte integers: a question may have 100,000 answers); the
    other columns are None when the question has no such part (no scale
    values, no texts…). A cell value repeats, so `options` shares one tuple
    among the answers that picked the same options.
    """

    __slots__ = ("options", "other_texts", "respondents", "texts", "values")

    def __init__(
        self,
        respondents: Sequence[int],
        *,
        values: list[float] | None = None,
        texts: list[str] | None = None,
        other_texts: list[str] | None = None,
        options: list[tuple[int, ...]] | None = None,
    ):
        self.respondents = respondents
        self.values = values
        self.texts = texts
        self.other_texts = other_texts if other_texts and any(other_texts) else None
        self.options = options

    def __len__(self) -> int:
        return len(self.respondents)

    def __getitem__(self, index):
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        return ParsedAnswer(
            self.respondents[index],
            value=self.values[index] if self.values is not None else None,
            text=self.texts[index] if self.texts is not None else "",
            other_text=self.other_texts[index] if self.other_texts is not None else "",
            options=list(self.options[index]) if self.options is not None else [],
        )

    def __iter__(self) -> Iterator[ParsedAnswer]:
        return map(self.__getitem__, range(len(self)))

    def with_other_text(self) -> int:
        return len(self) - self.other_texts.count("") if self.other_texts is not None else 0


def answered(cells: list[str]) -> array:
    """Indexes of the non-empty cells, as 4-byte integers rather than int objects."""
    return array("i", compress(range(len(cells)), cells))
