"""Report tables in the columns `export_report` promises (see design.md).

Closed questions come from polls.summaries; free text and "other" texts get one
row per theme applied at least once: distinct respondents coded with the theme
or any of its descendants, most frequent first.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q

from coding import tallies
from coding.adjudication import consensus_parts
from coding.models import Coding, Theme
from polls.models import Answer, Poll, Question
from polls.stats import percent, round_half_up
from polls.summaries import QuestionSummary, format_number, summarise_poll


@dataclass(frozen=True)
class Source:
    """Whose codings count: the consensus (coding.adjudication) or one coder's."""

    coder: object | None = None

    @classmethod
    def parse(cls, value: str) -> Source:
        """ "consensus" or "coder:USERNAME"; ValueError names what is wrong."""
        if value == "consensus":
            return cls()
        if value.startswith("coder:"):
            username = value.removeprefix("coder:")
            user = get_user_model().objects.filter(username=username).first()
            if user is None:
                raise ValueError(f"no user named {username!r}")
            return cls(user)
        raise ValueError(f"the source must be consensus or coder:USERNAME, not {value!r}")

    def parts(self, question: Question, respondents=None) -> list[tuple]:
        """(rows carrying themes, their path to the answer) for this source.

        One coder: their codings. The consensus: settlements and agreed codings
        (coding.adjudication). `respondents` (ids) restricts them to a subsample.
        """
        if self.coder is None:
            parts = consensus_parts(question)
        else:
            parts = [(Coding.objects.filter(answer__question=question, coder=self.coder), "answer")]
        if respondents is None:
            return parts
        return [
            (rows.filter(**{f"{path}__respondent__in": respondents}), path) for rows, path in parts
        ]

    def theme_counts(self, question: Question, respondents=None) -> dict[int, int]:
        """Theme id → distinct answers (= respondents) with it or a descendant.

        The whole question's are kept (coding.tallies); a subsample's are counted.
        """
        if respondents is None:
            return tallies.kept(question, self.coder, lambda: self._count(question, None))
        return self._count(question, respondents)

    def _count(self, question: Question, respondents) -> dict[int, int]:
        """A query a part."""
        counts: dict[int, int] = {}
        for rows, path in self.parts(question, respondents):
            grouped = (
                rows.values_list(F("theme__ancestor_paths__ancestor"))
                .annotate(n=Count(path, distinct=True))
                .order_by()
            )
            for theme_id, n in grouped:
                counts[theme_id] = counts.get(theme_id, 0) + n
        return counts

    def answers_with(self, question: Question, theme: Theme):
        """The question's answers this source codes with the theme or a descendant."""
        within = {"theme__ancestor_paths__ancestor": theme}
        carrying = Q()
        for rows, path in self.parts(question):
            carrying |= Q(pk__in=rows.filter(**within).values(path))
        return Answer.objects.filter(carrying)


def theme_rows(summary: QuestionSummary, source: Source, respondents=None) -> list[list]:
    question = summary.question
    counts = source.theme_counts(question, respondents)
    if not counts:
        return []
    # The contract's base for every row: those who answered the question, so an
    # "other" text theme reads as a share of everyone answering the choice question.
    base = summary.answered
    themes = Theme.objects.filter(pk__in=counts).select_related("parent")
    ordered = sorted(themes, key=lambda t: (-counts[t.pk], t.name.casefold()))
    return [
        [
            question.export_id,
            "theme",
            theme.name,
            theme.parent.name if theme.parent else "",
            counts[theme.pk],
            percent(counts[theme.pk], base),
            base,
        ]
        for theme in ordered
    ]


QUESTION_COLUMNS = ["question", "row_kind", "category", "parent", "respondents", "percent", "base"]
SUMMARY_COLUMNS = ["question", "kind", "text", "answered", "total", "mean", "median", "selections"]


def question_rows(summary: QuestionSummary) -> list[list]:
    qid = summary.question.export_id
    return [
        [
            qid,
            summary.row_kind,
            format_number(row.value) if row.value is not None else row.label,
            "",
            row.respondents,
            row.percent,
            summary.answered,
        ]
        for row in summary.rows
    ]


def summary_row(summary: QuestionSummary) -> list:
    question = summary.question
    is_scale = question.kind == Question.Kind.SCALE
    return [
        question.export_id,
        question.kind,
        question.text,
        summary.answered,
        summary.total,
        round_half_up(summary.mean, 2) if is_scale else None,
        summary.median if is_scale else None,
        summary.selections if question.kind == Question.Kind.MULTI_CHOICE else None,
    ]


def report_tables(poll: Poll, source: Source | None = None, respondents=None):
    """(name, header, rows) for summary.csv and each question's table, in poll order.

    `respondents` (ids) restricts every table to a subsample.
    """
    source = source or Source()
    summaries = summarise_poll(poll, respondents)
    tables = [("summary", SUMMARY_COLUMNS, [summary_row(s) for s in summaries])]
    tables += [
        (
            s.question.export_id,
            QUESTION_COLUMNS,
            question_rows(s) + theme_rows(s, source, respondents),
        )
        for s in summaries
    ]
    return tables
