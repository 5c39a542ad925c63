"""Report tables in the columns `export_report` promises (see design.md).

Closed questions come from polls.summaries; theme rows for free text and
"other" texts are added by the coding workbench.
"""

from __future__ import annotations

from polls.models import Poll, Question
from polls.stats import round_half_up
from polls.summaries import QuestionSummary, format_number, summarise_poll

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


def report_tables(poll: Poll) -> list[tuple[str, list[str], list[list]]]:
    """(name, header, rows) for summary.csv and each question's table, in poll order."""
    summaries = summarise_poll(poll)
    tables = [("summary", SUMMARY_COLUMNS, [summary_row(s) for s in summaries])]
    tables += [(s.question.export_id, QUESTION_COLUMNS, question_rows(s)) for s in summaries]
    return tables
