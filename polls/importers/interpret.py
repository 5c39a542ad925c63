"""Cells → answers, by the question specs.

One ParsedAnswer per respondent who answered: a non-empty cell, a ticked
choice or an "other" text. Cell values repeat (a scale has 11 points, a
choice question a handful of options), so each distinct value is parsed once
and cached; that keeps 100,000 rows quick.
"""

from __future__ import annotations

from dataclasses import dataclass

from polls.importers.constants import FREE_TEXT, MULTI_CHOICE, SCALE, SINGLE_CHOICE
from polls.importers.options import Splitter, norm
from polls.importers.scales import label_key, parse_point
from polls.importers.table import column_ref
from polls.importers.types import (
    ImportProblem,
    ParsedAnswer,
    QuestionSpec,
    RawColumn,
    RawQuestion,
    RawSurvey,
)

# A breakout column holding these was seen but not ticked (Qualtrics recodes).
UNTICKED = {"0", "-99"}


@dataclass
class Context:
    """Where the answers come from, for messages that name the cell."""

    filename: str
    rows: list[int]  # spreadsheet row of each respondent
    question: RawQuestion
    spec: QuestionSpec

    def problem(self, message: str, respondent: int, column: RawColumn) -> ImportProblem:
        return ImportProblem(
            f"{self.spec.export_id}: {message}",
            file=self.filename,
            row=self.rows[respondent] if self.rows else None,
            column=column_ref(column.index, column.name),
        )

    @property
    def main(self) -> RawColumn | None:
        return next((c for c in self.question.columns if c.role == "main"), None)


def interpret(survey: RawSurvey, specs: list[QuestionSpec]) -> list[list[ParsedAnswer]]:
    if len(specs) != len(survey.questions):
        raise ValueError("interpret needs one spec per question, in the same order")
    rows = [r.row for r in survey.respondents]
    return [
        interpret_question(Context(survey.filename, rows, q, s), len(rows))
        for q, s in zip(survey.questions, specs, strict=True)
    ]


def interpret_question(ctx: Context, count: int) -> list[ParsedAnswer]:
    kind = ctx.spec.kind
    if kind == FREE_TEXT:
        return _free_text(ctx, count)
    if kind == SCALE:
        return _scale(ctx)
    if kind in (SINGLE_CHOICE, MULTI_CHOICE):
        return Choices(ctx, multi=kind == MULTI_CHOICE).answers(count)
    raise ImportProblem(f"{ctx.spec.export_id}: unknown kind {kind!r}", file=ctx.filename)


def _free_text(ctx: Context, count: int) -> list[ParsedAnswer]:
    columns = ctx.question.columns
    if len(columns) == 1:
        return [ParsedAnswer(i, text=cell) for i, cell in enumerate(columns[0].cells) if cell]
    # A choice question declared free text: each response's cells, one per line.
    answers = []
    for i in range(count):
        texts = [c.cells[i] for c in columns if c.cells[i]]
        if texts:
            answers.append(ParsedAnswer(i, text="\n".join(texts)))
    return answers


def _scale(ctx: Context) -> list[ParsedAnswer]:
    main = ctx.main
    if main is None:
        column = ctx.question.columns[0]
        raise ctx.problem("its choices sit in separate columns, so it cannot be a scale", 0, column)
    spec = ctx.spec
    labels = {
        label_key(spec.scale_min_label): spec.scale_min,
        label_key(spec.scale_max_label): spec.scale_max,
    }
    labels = {k: float(v) for k, v in labels.items() if k and v is not None}
    cache: dict[str, float] = {}
    answers = []
    for i, cell in enumerate(main.cells):
        if not cell:
            continue
        value = cache.get(cell)
        if value is None:
            value = cache[cell] = _point(ctx, cell, i, main, labels)
        answers.append(ParsedAnswer(i, value=value))
    return answers


def _point(ctx: Context, cell: str, i: int, column: RawColumn, labels: dict) -> float:
    low, high = ctx.spec.scale_min, ctx.spec.scale_max
    span = f" ({low}–{high})" if low is not None and high is not None else ""
    parsed = parse_point(cell, labels)
    if parsed is None:
        raise ctx.problem(f"{_quote(cell)} is not a point of the scale{span}", i, column)
    value = parsed[0]
    if (low is not None and value < low) or (high is not None and value > high):
        raise ctx.problem(f"{_quote(cell)} is outside the scale{span}", i, column)
    return value


class Options:
    """Finds an option by its text (case and spacing ignored), its code, or its number.

    A bare number k names the k-th option only when no option has a code and
    none is itself a number: a numeric export read with a schema listing the
    option texts in order.
    """

    def __init__(self, spec: QuestionSpec):
        self.by_text: dict[str, int] = {}
        for i, option in enumerate(spec.options):
            self.by_text.setdefault(norm(option.text), i)
        self.by_code = {o.code: i for i, o in reversed(list(enumerate(spec.options))) if o.code}
        numeric = any(o.text.strip().lstrip("+-").isdigit() for o in spec.options)
        self.by_position = not self.by_code and not numeric
        self.count = len(spec.options)
        self.other = next((i for i, o in enumerate(spec.options) if o.is_other), None)

    def find(self, value: str) -> int | None:
        found = self.by_text.get(norm(value))
        if found is None:
            found = self.by_code.get(value.strip())
        if found is None and self.by_position and value.isdigit():
            k = int(value)
            found = k - 1 if 1 <= k <= self.count else None
        return found


class Choices:
    """Selections from the main cell, the per-choice columns and the "other" columns."""

    def __init__(self, ctx: Context, *, multi: bool):
        self.ctx = ctx
        self.multi = multi
        self.options = Options(ctx.spec)
        columns = ctx.question.columns
        self.main = ctx.main
        self.choice_columns = [(c, self._column_option(c)) for c in columns if c.role == "choice"]
        self.other_columns = [
            (c, self._column_option(c, True)) for c in columns if c.role == "other"
        ]
        # Without an "other" column, an unknown answer is the "Other" text (Google Forms).
        self.inline_other = self.options.other is not None and not self.other_columns
        self.splitter = Splitter([o.text for o in ctx.spec.options], ctx.question.multi_separator)
        self.cache: dict[str, tuple[list[int], list[str]]] = {}

    def _column_option(self, column: RawColumn, other: bool = False) -> int | None:
        options = self.ctx.spec.options
        for i, option in enumerate(options):
            if column.choice_code and option.code == column.choice_code:
                return i
        found = self.options.by_text.get(norm(column.choice)) if column.choice else None
        return self.options.other if found is None and other else found

    def answers(self, count: int) -> list[ParsedAnswer]:
        if self.main is not None and not self.choice_columns and not self.other_columns:
            return self._main_only()
        answers = []
        for i in range(count):
            answer = self._answer(i)
            if answer is not None:
                answers.append(answer)
        return answers

    def _main_only(self) -> list[ParsedAnswer]:
        """The common case, one answer column: a loop over it with cached cells."""
        answers = []
        for i, cell in enumerate(self.main.cells):
            if not cell:
                continue
            found, unknown = self._main_value(cell)
            if unknown:
                answers.append(self._answer(i))  # the general path says what to do
            else:
                answers.append(ParsedAnswer(i, options=list(dict.fromkeys(found))))
        return answers

    def _answer(self, i: int) -> ParsedAnswer | None:
        selected: list[int] = []
        other_texts = [cell for column, _ in self.other_columns if (cell := column.cells[i])]
        if self.main is not None and (cell := self.main.cells[i]):
            found, unknown = self._main_value(cell)
            selected.extend(found)
            if unknown:
                selected.append(self._other_for(unknown, i, bool(other_texts)))
                if self.inline_other:
                    other_texts.append(self.ctx.question.multi_separator.join(unknown))
        for column, option in self.choice_columns:
            cell = column.cells[i]
            if cell and cell not in UNTICKED:
                if option is None:
                    raise self.ctx.problem(
                        f"the choice {_quote(column.choice or column.name)} is not among its "
                        "options",
                        i,
                        column,
                    )
                selected.append(option)
        for column, option in self.other_columns:
            # Single choice: a text left behind after picking another option stays a text.
            if column.cells[i] and option is not None and (self.multi or not selected):
                selected.append(option)
        if not selected and not other_texts:
            return None
        selected = list(dict.fromkeys(selected))
        if not self.multi and len(selected) > 1:
            column = self.main or self.choice_columns[0][0]
            raise self.ctx.problem(
                f"this response picks {len(selected)} options of a single-choice question; "
                "declare it multi_choice",
                i,
                column,
            )
        return ParsedAnswer(i, options=selected, other_text="\n".join(other_texts))

    def _main_value(self, cell: str) -> tuple[list[int], list[str]]:
        """(options found, pieces matching none); each distinct cell is parsed once."""
        cached = self.cache.get(cell)
        if cached is None:
            cached = self.cache[cell] = self._parse_main(cell)
        return cached

    def _parse_main(self, cell: str) -> tuple[list[int], list[str]]:
        found = self.options.find(cell)
        if found is not None:
            return [found], []
        if not self.multi:
            return [], [cell]
        indexes, leftovers = self.splitter.split(cell)
        unknown = []
        for piece in leftovers:
            option = self.options.find(piece)
            if option is None:
                unknown.append(piece)
            else:
                indexes.append(option)
        return indexes, unknown

    def _other_for(self, pieces: list[str], i: int, has_other_text: bool) -> int:
        """Pieces matching no option mean "Other" where the layout writes the other text
        into the cell (Google Forms), or where this response has an other text."""
        if self.options.other is not None and (self.inline_other or has_other_text):
            return self.options.other
        assert self.main is not None
        names = ", ".join(_quote(p) for p in pieces)
        raise self.ctx.problem(
            f"{names} {'is' if len(pieces) == 1 else 'are'} not among its options "
            f"({_option_list(self.ctx.spec)})",
            i,
            self.main,
        )


def _quote(text: str) -> str:
    short = text if len(text) <= 60 else text[:59] + "…"
    return f"“{short}”"


def _option_list(spec: QuestionSpec) -> str:
    texts = [o.text for o in spec.options[:8]]
    more = " …" if len(spec.options) > 8 else ""
    return "; ".join(texts) + more if texts else "none"
