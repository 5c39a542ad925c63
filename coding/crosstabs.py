"""Crosstabs: a question's table split by a respondent attribute or by another
question's answer, as counts and column percentages.

A column is a group of respondents (Role = Team Manager; chose "Likely" in
Q5); its base is how many of them answered the question, so each column reads
like the whole table does. A multi-choice split puts a respondent in every
column they chose. Two or three grouped queries per table, whatever the size.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from functools import cached_property

from django.db.models import Count, F

from coding.report_data import QuestionReport
from polls.models import Answer, Poll, Question, Rating, Selection
from polls.stats import percent


@dataclass
class Split:
    """Group respondents by an attribute (`attr:Role`) or a choice question (`q:<id>`)."""

    label: str
    poll: Poll
    attribute: str = ""
    question: Question | None = None

    @property
    def value(self) -> str:
        return f"q:{self.question.pk}" if self.question else f"attr:{self.attribute}"

    def path(self, prefix: str) -> str:
        """The group's lookup from a model whose path to the respondent's row is `prefix`."""
        if self.question:
            return f"{prefix}respondent__selections__option"
        return f"{prefix}respondent__attributes__{self.attribute}"

    def narrow(self, queryset, prefix: str):
        if self.question:
            return queryset.filter(**{f"{prefix}respondent__selections__question": self.question})
        return queryset

    @cached_property
    def columns(self) -> list[tuple[object, str]]:
        """(group key, heading) in display order; read once for every table of the report."""
        if self.question:
            return [(o.pk, o.text) for o in self.question.options.all()]
        values = self.poll.respondents.values_list(f"attributes__{self.attribute}", flat=True)
        found = {v for v in values.distinct() if v not in (None, "")}
        return [(v, str(v)) for v in sorted(found, key=str)]


def splits(poll: Poll) -> list[Split]:
    """Every way this poll can be split: its attributes, then its choice questions."""
    keys = set()
    # The first respondents in import order: an index range, not a sort of them all.
    first = poll.respondents.order_by("position").values_list("attributes", flat=True)[:500]
    for attributes in first:
        keys.update(attributes or {})
    found = [Split(f"{key} (attribute)", poll, attribute=key) for key in sorted(keys)]
    choice = (Question.Kind.SINGLE_CHOICE, Question.Kind.MULTI_CHOICE)
    for question in poll.questions.filter(kind__in=choice).order_by("position"):
        found.append(Split(f"{question.export_id} {question.text[:60]}", poll, question=question))
    return found


def split_from(poll: Poll, value: str, choices: list[Split] | None = None) -> Split | None:
    """The split the query string names, among `choices` (default: splits(poll))."""
    if not value:
        return None
    return next((s for s in choices or splits(poll) if s.value == value), None)


@dataclass
class Crosstab:
    columns: list[tuple[object, str]]
    bases: list[int]
    rows: list[tuple[str, list[tuple[int, float | None]]]] = field(default_factory=list)


def crosstab(report: QuestionReport, split: Split) -> Crosstab:
    question, respondents = report.question, report.options.respondents
    columns = split.columns
    base_counts = _bases(question, split, respondents)
    bases = [base_counts.get(key, 0) for key, _ in columns]
    table = Crosstab(columns, bases)
    if report.is_themed:
        counts = _theme_counts(report, split)
        labels = [(row.theme.pk, row.theme.name) for row in report.themes]
    elif question.kind == Question.Kind.SCALE:
        counts = _grouped(_rows(Rating, question, split, respondents), "value", split)
        labels = [(row.value, row.label) for row in report.summary.rows]
    else:
        counts = _grouped(_rows(Selection, question, split, respondents), "option", split)
        labels = [(row.option_id, row.label) for row in report.summary.rows]
    for key, label in labels:
        cells = []
        for (group, _), base in zip(columns, bases, strict=True):
            n = counts.get((key, group), 0)
            cells.append((n, percent(n, base)))
        table.rows.append((label, cells))
    return table


def _rows(model, question: Question, split: Split, respondents):
    """The question's rows of `model` (answers, points or ticks) in the split's groups."""
    rows = split.narrow(model.objects.filter(question=question), "")
    if respondents is not None:
        rows = rows.filter(respondent__in=respondents)
    return rows


def _bases(question: Question, split: Split, respondents) -> dict[object, int]:
    """Group → respondents who answered the question, as its table counts them
    (polls.summaries): a choice question's base adds "other" texts with nothing ticked."""
    if question.kind == Question.Kind.SCALE:
        return _grouped(_rows(Rating, question, split, respondents), None, split)
    if question.kind == Question.Kind.FREE_TEXT:
        return _grouped(_rows(Answer, question, split, respondents), None, split)
    bases = _grouped(_rows(Selection, question, split, respondents), None, split)
    unticked = _rows(Answer, question, split, respondents).unticked()
    for group, n in _grouped(unticked, None, split).items():
        bases[group] = bases.get(group, 0) + n
    return bases


def _grouped(rows, field_name: str | None, split: Split) -> dict:
    """(row key, group) → respondents; group → respondents without a field_name."""
    keys = [field_name, split.path("")] if field_name else [split.path("")]
    grouped = rows.values_list(*keys).annotate(n=Count("respondent", distinct=True)).order_by()
    if field_name:
        return {(key, group): n for key, group, n in grouped}
    return dict(grouped)


def _theme_counts(report: QuestionReport, split: Split) -> dict[tuple, int]:
    """(theme id incl. ancestors, group) → respondents, from the report's source."""
    counts: dict[tuple, int] = defaultdict(int)
    for rows, path in report.options.source.parts(report.question, report.options.respondents):
        prefix = f"{path}__"
        grouped = (
            split.narrow(rows, prefix)
            .values_list(F("theme__ancestor_paths__ancestor"), split.path(prefix))
            .annotate(n=Count(f"{prefix}respondent", distinct=True))
            .order_by()
        )
        for theme, group, n in grouped:
            counts[theme, group] += n
    return counts
