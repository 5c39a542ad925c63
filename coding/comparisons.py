"""A question beside the same question in an earlier poll of the project.

The earlier question is the one a lead linked (Question.compare_with), or else
the one in the most recent earlier poll with the same kind and nearly the same
wording (rapidfuzz, ≥ 90 after normalising case and spaces). Rows pair options
by their text, scale points by value and themes by identity (the codebook is
the project's), each with the change in percentage points: "67% in July 2021
vs 62% now".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz, utils

from coding.report_data import QuestionReport, ReportOptions, theme_table
from polls.models import Poll, Question
from polls.stats import round_half_up
from polls.summaries import QuestionSummary, summarise_poll

SAME_WORDING = 90


@dataclass
class Comparison:
    earlier: Question
    rows: list[tuple[str, float | None, float | None, str]] = field(default_factory=list)

    @property
    def when(self) -> str:
        poll = self.earlier.poll
        day = poll.closed or poll.opened
        return f"{day:%B %Y}" if day else poll.title

    @property
    def changes(self) -> list[tuple[str, float | None, float | None, float | None, str]]:
        """(label, then, now, change, unit): unit "%" (change in points) or "" (a mean)."""
        return [
            (label, then, now, None if then is None or now is None else round(now - then, 1), unit)
            for label, then, now, unit in self.rows
        ]

    @property
    def sentence(self) -> str:
        """The largest row: "Often: 52% now vs 45% in July 2021 (+7 points)"."""
        known = [c for c in self.changes if c[3] is not None and c[4] == "%"]
        if not known:
            return ""
        label, then, now, change, _ = max(known, key=lambda c: c[2])
        whole = int(round_half_up(change, 0))
        return (
            f"{label}: {int(round_half_up(now, 0))}% now vs {int(round_half_up(then, 0))}% "
            f"in {self.when} ({whole:+d} points)"
        )


def earlier_polls(poll: Poll):
    """Polls of the project that ran before this one, most recent first."""
    others = poll.project.polls.exclude(pk=poll.pk)
    if poll.opened:
        return others.filter(opened__lt=poll.opened).order_by("-opened")
    return others.filter(created_at__lt=poll.created_at).order_by("-created_at")


def _normal(text: str) -> str:
    return utils.default_process(text)


def match(question: Question, candidates: list[Question]) -> Question | None:
    if question.compare_with_id:
        return next((c for c in candidates if c.pk == question.compare_with_id), None)
    wording = _normal(question.text)
    for candidate in candidates:  # most recent poll first
        same_kind = candidate.kind == question.kind
        if same_kind and fuzz.ratio(wording, _normal(candidate.text)) >= SAME_WORDING:
            return candidate
    return None


def compare_all(poll: Poll, reports: list[QuestionReport], options: ReportOptions) -> None:
    """Attach a comparison to every question that has an earlier twin.

    One summarise_poll per earlier poll that holds a twin (five queries each),
    plus the theme table of each themed twin.
    """
    earlier = list(earlier_polls(poll))
    if not earlier:
        return
    order = {p.pk: i for i, p in enumerate(earlier)}
    candidates = sorted(
        Question.objects.filter(poll__in=earlier).select_related("poll"),
        key=lambda q: (order[q.poll_id], q.position),
    )
    twins = {r.question.pk: match(r.question, candidates) for r in reports}
    summaries: dict[int, dict[int, QuestionSummary]] = {}
    for twin in filter(None, twins.values()):
        if twin.poll_id not in summaries:
            found = summarise_poll(twin.poll)
            summaries[twin.poll_id] = {s.question.pk: s for s in found}
    plain = ReportOptions(source=options.source)  # the subsample names this poll's people
    for report in reports:
        twin = twins[report.question.pk]
        if twin is not None:
            then = summaries[twin.poll_id][twin.pk]
            report.comparison = Comparison(twin, _rows(report, then, plain))


def _rows(report: QuestionReport, then: QuestionSummary, options: ReportOptions) -> list:
    """(label, then %, now %, unit), percentages exact so each is rounded once, where shown."""
    now = report.summary
    if report.is_themed:
        before = {r.theme.pk: r.respondents for r in theme_table(then, options)}
        return [
            (r.theme.name, _share(before.get(r.theme.pk, 0), then), _share(r.respondents, now), "%")
            for r in report.themes
        ]
    if report.question.kind == Question.Kind.SCALE:
        before = {row.value: row.respondents for row in then.rows}
        rows = [
            (row.label, _share(before.get(row.value), then), _share(row.respondents, now), "%")
            for row in now.rows
        ]
        rows.append(("Mean score", _one(then.mean), _one(now.mean), ""))
        return rows
    before = {row.label.casefold(): row.respondents for row in then.rows}
    return [
        (
            row.label,
            _share(before.get(row.label.casefold()), then),
            _share(row.respondents, now),
            "%",
        )
        for row in now.rows
    ]


def _share(count: int | None, summary: QuestionSummary) -> float | None:
    if count is None or not summary.answered:
        return None
    return 100 * count / summary.answered


def _one(value: float | None) -> float | None:
    return None if value is None else round_half_up(value, 1)
