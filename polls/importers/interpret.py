"""Cells → answers, by the question specs.

One answer per respondent who answered: a non-empty cell, a ticked choice or
an "other" text. Cell values repeat (a scale has 11 points, a choice question
a handful of options), so each distinct value (for a choice question, each
distinct combination of its cells) is worked out once, and the answers are
built column by column (types.Answers); that keeps 100,000 rows quick.
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import compress, repeat

from polls.importers.constants import FREE_TEXT, MULTI_CHOICE, SCALE, SINGLE_CHOICE
from polls.importers.options import Splitter, norm
from polls.importers.scales import label_key, parse_point
from polls.importers.table import column_ref
from polls.importers.types import (
    Answers,
    ImportProblem,
    QuestionSpec,
    RawColumn,
    RawQuestion,
    RawSurvey,
    answered,
)

# A breakout column holding these was seen but not ticked (Qualtrics recodes).
UNTICKED = {"0", "-99"}


@dataclass
class Context:
    """Where the answers come from, for messages that name the cell."""

    filename: str
    rows: Sequence[int]  # spreadsheet row of each respondent
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


def interpret(survey: RawSurvey, specs: list[QuestionSpec]) -> list[Answers]:
    if len(specs) != len(survey.questions):
        raise ValueError("interpret needs one spec per question, in the same order")
    return [interpret_one(survey, q, s) for q, s in zip(survey.questions, specs, strict=True)]


def interpret_one(survey: RawSurvey, question: RawQuestion, spec: QuestionSpec) -> Answers:
    rows = survey.respondents.rows
    return interpret_question(Context(survey.filename, rows, question, spec), len(rows))


def interpret_question(ctx: Context, count: int) -> Answers:
    kind = ctx.spec.kind
    if kind == FREE_TEXT:
        return _free_text(ctx)
    if kind == SCALE:
        return _scale(ctx)
    if kind in (SINGLE_CHOICE, MULTI_CHOICE):
        return Choices(ctx, multi=kind == MULTI_CHOICE).answers(count)
    raise ImportProblem(f"{ctx.spec.export_id}: unknown kind {kind!r}", file=ctx.filename)


def _free_text(ctx: Context) -> Answers:
    columns = ctx.question.columns
    if len(columns) == 1:
        cells = columns[0].cells
    else:  # a choice question declared free text: each response's cells, one per line
        cells = [
            "\n".join(filter(None, row)) for row in zip(*(c.cells for c in columns), strict=True)
        ]
    return Answers(answered(cells), texts=list(filter(None, cells)))


def _scale(ctx: Context) -> Answers:
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
    cells = main.cells
    points: dict[str, float] = {}
    for cell in dict.fromkeys(cells):  # in order of first appearance: the first bad row
        if cell:
            value = _point(ctx, cell, labels)
            if isinstance(value, str):
                raise ctx.problem(value, cells.index(cell), main)
            points[cell] = value
    return Answers(answered(cells), values=list(map(points.__getitem__, filter(None, cells))))


def _point(ctx: Context, cell: str, labels: dict) -> float | str:
    """The cell's point of the scale, or what is wrong with it."""
    low, high = ctx.spec.scale_min, ctx.spec.scale_max
    span = f" ({low}–{high})" if low is not None and high is not None else ""
    parsed = parse_point(cell, labels)
    if parsed is None:
        return f"{_quote(cell)} is not a point of the scale{span}"
    value = parsed[0]
    if (low is not None and value < low) or (high is not None and value > high):
        return f"{_quote(cell)} is outside the scale{span}"
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


class _Refused:
    """Why a combination of cells cannot be read, for the first row that has it."""

    __slots__ = ("column", "message")

    def __init__(self, message: str, column: RawColumn):
        self.message = message
        self.column = column


class _Outcomes(dict):
    """A respondent's cells (as a key) → (options, inline other text, has other texts),
    None for no answer, or _Refused; worked out once per distinct key."""

    def __init__(self, outcome):
        super().__init__()
        self.outcome = outcome

    def __missing__(self, key):
        value = self[key] = self.outcome(key)
        return value


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

    def answers(self, count: int) -> Answers:
        """Each respondent's cells are a key (the main cell alone in the common case of
        one answer column); a key's outcome is worked out once, on its first row."""
        if self.main is not None and not self.choice_columns and not self.other_columns:
            outcomes = _Outcomes(self._main_only)
            keys = lambda: iter(self.main.cells)  # noqa: E731
        else:
            outcomes = _Outcomes(self._outcome)
            main = self.main.cells if self.main is not None else None
            parts = [c.cells for c, _ in self.choice_columns]
            keys = lambda: zip(  # noqa: E731
                repeat("", count) if main is None else main,
                *parts,
                *(map(bool, c.cells) for c, _ in self.other_columns),
                strict=True,
            )
        results = list(map(outcomes.__getitem__, keys()))
        if any(isinstance(v, _Refused) for v in outcomes.values()):
            for i, key in enumerate(keys()):
                if isinstance(refused := outcomes[key], _Refused):
                    raise self.ctx.problem(refused.message, i, refused.column)
        respondents = array("i", compress(range(count), results))
        found = list(filter(None, results))
        del results
        return Answers(
            respondents,
            options=[outcome[0] for outcome in found],
            other_texts=self._other_texts(respondents, found),
        )

    def _other_texts(self, respondents: array, found: list[tuple]) -> list[str] | None:
        if not any(inline is not None or has for _, inline, has in set(found)):
            return None
        columns = [c.cells for c, _ in self.other_columns]
        texts = []
        for i, (_, inline, has_other) in zip(respondents, found, strict=True):
            parts = [cells[i] for cells in columns if cells[i]] if has_other else []
            if inline is not None:
                parts.append(inline)
            texts.append("\n".join(parts))
        return texts

    def _main_only(self, cell: str):
        """The common case, one answer column: a cell whose pieces are all options."""
        if not cell:
            return None
        found, unknown = self._main_value(cell)
        if unknown:
            return self._outcome((cell,))  # the general path says what to do
        return tuple(dict.fromkeys(found)), None, False

    def _outcome(self, key: tuple):
        """What `key` (main cell, choice cells…, whether each "other" cell has text) means."""
        main_cell = key[0]
        ticks = key[1 : 1 + len(self.choice_columns)]
        flags = key[1 + len(self.choice_columns) :]
        has_other_text = any(flags)
        selected: list[int] = []
        inline = None
        if self.main is not None and main_cell:
            found, unknown = self._main_value(main_cell)
            selected.extend(found)
            if unknown:
                other = self._other_for(unknown, has_other_text)
                if isinstance(other, _Refused):
                    return other
                selected.append(other)
                if self.inline_other:
                    inline = self.ctx.question.multi_separator.join(unknown)
        for (column, option), cell in zip(self.choice_columns, ticks, strict=True):
            if cell and cell not in UNTICKED:
                if option is None:
                    return _Refused(
                        f"the choice {_quote(column.choice or column.name)} is not among its "
                        "options",
                        column,
                    )
                selected.append(option)
        for (_, option), flag in zip(self.other_columns, flags, strict=True):
            # Single choice: a text left behind after picking another option stays a text.
            if flag and option is not None and (self.multi or not selected):
                selected.append(option)
        if not selected and not has_other_text and inline is None:
            return None
        picked = tuple(dict.fromkeys(selected))
        if not self.multi and len(picked) > 1:
            return _Refused(
                f"this response picks {len(picked)} options of a single-choice question; "
                "declare it multi_choice",
                self.main or self.choice_columns[0][0],
            )
        return picked, inline, has_other_text

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

    def _other_for(self, pieces: list[str], has_other_text: bool) -> int | _Refused:
        """Pieces matching no option mean "Other" where the layout writes the other text
        into the cell (Google Forms), or where this response has an other text."""
        if self.options.other is not None and (self.inline_other or has_other_text):
            return self.options.other
        assert self.main is not None
        names = ", ".join(_quote(p) for p in pieces)
        return _Refused(
            f"{names} {'is' if len(pieces) == 1 else 'are'} not among its options "
            f"({_option_list(self.ctx.spec)})",
            self.main,
        )


def _quote(text: str) -> str:
    short = text if len(text) <= 60 else text[:59] + "…"
    return f"“{short}”"


def _option_list(spec: QuestionSpec) -> str:
    texts = [o.text for o in spec.options[:8]]
    more = " …" if len(spec.options) > 8 else ""
    return "; ".join(texts) + more if texts else "none"
