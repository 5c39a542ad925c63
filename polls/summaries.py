"""Question-by-question summaries of a poll: bases, distributions, scale statistics.

A poll's summaries cost at most eight queries whatever its size: the
respondent count, the questions, their options, then one grouped count per
kind of row (answers written, points chosen, options ticked and who ticked
them, "other" texts with nothing ticked), each only if such questions are asked.
The poll page and `export_report` both read them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count

from polls import stats
from polls.models import Answer, AnswerQuerySet, Poll, Question, Rating, Selection


@dataclass
class Row:
    """One line of a distribution: an option or a scale point."""

    label: str
    respondents: int
    percent: float | None
    value: float | None = None  # the scale point, for scale rows
    option_id: int | None = None
    is_other: bool = False
    percent_of_selections: float | None = None  # multi choice: the second base


@dataclass
class QuestionSummary:
    question: Question
    answered: int
    total: int
    rows: list[Row] = field(default_factory=list)
    selections: int | None = None  # multi-choice: options chosen in all
    mean: float | None = None
    median: float | None = None

    @property
    def kind(self) -> str:
        return self.question.kind

    @property
    def row_kind(self) -> str:
        return "value" if self.kind == Question.Kind.SCALE else "option"


CHOICE = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTI_CHOICE)


def summarise_poll(poll: Poll, respondents=None, only=None) -> list[QuestionSummary]:
    """Every question's summary, or `only` that question's; `respondents` (ids)
    restricts them to a subsample."""
    everyone = poll.respondents.all()
    total = (everyone.filter(pk__in=respondents) if respondents is not None else everyone).count()
    questions = poll.questions.order_by("position").prefetch_related("options")
    if only is not None:
        questions = questions.filter(pk=only.pk)
    questions = list(questions)
    counts = Counts(questions, respondents)
    return [_summarise(q, total, counts) for q in questions]


class Counts:
    """What the summaries count, one grouped query per kind of row, and only for the
    kinds of question asked: answers written, points chosen, options ticked."""

    def __init__(self, questions: list[Question], respondents=None):
        self.respondents = respondents
        ids: dict[str, list[int]] = defaultdict(list)
        for question in questions:
            ids[question.kind].append(question.pk)
        choice = [pk for kind in CHOICE for pk in ids[kind]]
        self.written = self._per_question(Answer, ids[Question.Kind.FREE_TEXT])
        self.points = self._points(ids[Question.Kind.SCALE])
        self.options = self._options(choice)
        self.choosers = self._per_question(Selection, choice, Count("respondent", distinct=True))
        self.unticked = self._per_question(Answer, choice, rows=AnswerQuerySet.unticked)

    def answered(self, question: Question) -> int:
        if question.kind == Question.Kind.SCALE:
            return sum(self.points.get(question.pk, {}).values())
        if question.is_choice:
            return self.choosers.get(question.pk, 0) + self.unticked.get(question.pk, 0)
        return self.written.get(question.pk, 0)

    def _rows(self, model, ids: list[int]):
        rows = model.objects.filter(question__in=ids)
        if self.respondents is not None:
            rows = rows.filter(respondent__in=self.respondents)
        return rows.order_by()

    def _per_question(self, model, ids, count=None, rows=None) -> dict[int, int]:
        if not ids:
            return {}
        found = self._rows(model, ids)
        if rows is not None:
            found = rows(found)
        grouped = found.values("question").annotate(n=count or Count("*"))
        return dict(grouped.values_list("question", "n"))

    def _points(self, ids: list[int]) -> dict[int, dict[float, int]]:
        counts: dict[int, dict[float, int]] = defaultdict(dict)
        if ids:
            grouped = self._rows(Rating, ids).values("question", "value").annotate(n=Count("*"))
            for question, value, n in grouped.values_list("question", "value", "n"):
                counts[question][value] = n
        return counts

    def _options(self, ids: list[int]) -> dict[int, int]:
        """Option → respondents who ticked it (a selection is unique per respondent)."""
        if not ids:
            return {}
        grouped = self._rows(Selection, ids).values("option").annotate(n=Count("*"))
        return dict(grouped.values_list("option", "n"))


def _summarise(question, total, counts: Counts) -> QuestionSummary:
    summary = QuestionSummary(question=question, answered=counts.answered(question), total=total)
    if question.kind == Question.Kind.SCALE:
        _fill_scale(summary, counts.points.get(question.pk, {}))
    elif question.is_choice:
        chosen = counts.options
        summary.rows = [
            Row(
                label=o.text,
                respondents=chosen.get(o.pk, 0),
                percent=stats.percent(chosen.get(o.pk, 0), summary.answered),
                option_id=o.pk,
                is_other=o.is_other,
            )
            for o in question.options.all()
        ]
        if question.kind == Question.Kind.MULTI_CHOICE:
            summary.selections = sum(row.respondents for row in summary.rows)
            for row in summary.rows:
                row.percent_of_selections = stats.percent(row.respondents, summary.selections)
    return summary


def scale_points(question: Question, counts: dict[float, int]) -> list[float]:
    """Every point of the scale, so that points nobody chose still get a row."""
    points = set(counts)
    if question.scale_min is not None and question.scale_max is not None:
        points.update(range(question.scale_min, question.scale_max + 1))
    return sorted(points)


def _fill_scale(summary: QuestionSummary, counts: dict[float, int]) -> None:
    question = summary.question
    summary.mean = stats.mean_from_counts(counts)
    summary.median = stats.median_from_counts(counts)
    summary.rows = [
        Row(
            label=_point_label(question, point),
            respondents=counts.get(point, 0),
            percent=stats.percent(counts.get(point, 0), summary.answered),
            value=point,
        )
        for point in scale_points(question, counts)
    ]


def format_number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _point_label(question: Question, point: float) -> str:
    label = format_number(point)
    if point == question.scale_min and question.scale_min_label:
        return f"{label} ({question.scale_min_label})"
    if point == question.scale_max and question.scale_max_label:
        return f"{label} ({question.scale_max_label})"
    return label
