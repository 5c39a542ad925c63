"""A poll's report, question by question, as the report page and the draft show it.

Each question gets its base sentence, its table (options, scale points or
themes), a caption in the seeds' form ("Source: …", "Base: 114 Social Workers",
"Polled online, 4-21 October 2021") and, for themes, quotes attributed by role.
The whole poll costs a fixed number of queries: summarise_poll's five, then
two or three per coded question (theme counts, their themes, quotes).

Options come from the page's query string: `source` (consensus or
coder:USERNAME) and a subsample, `opt` = the options of one choice question
that define it ("respondents who selected likely or very likely").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.db.models import OuterRef, Subquery

from coding.models import Coding, Quote, Theme
from coding.reports import Source
from polls.models import Membership, Option, Poll, Question, Selection
from polls.stats import band_count, parse_bands, percent
from polls.summaries import QuestionSummary, summarise_poll

ATTRIBUTION = ("Role", "role", "Job title", "Job role")
QUOTES_PER_THEME = 2


@dataclass
class Subsample:
    question: Question
    options: list[Option]

    @property
    def respondents(self):
        chosen = Selection.objects.filter(question=self.question, option__in=self.options)
        return chosen.values("respondent")

    @property
    def label(self) -> str:
        chosen = " or ".join(f"“{o.text}”" for o in self.options)
        return f"respondents who answered {chosen} to {self.question.export_id}"


@dataclass
class ReportOptions:
    source: Source = field(default_factory=Source)
    subsample: Subsample | None = None
    split: object | None = None  # a coding.crosstabs.Split
    blinded: bool = False  # a coder during a hidden blind round: their own coding only

    @property
    def source_value(self) -> str:
        return f"coder:{self.source.coder.get_username()}" if self.source.coder else "consensus"

    @property
    def respondents(self):
        return self.subsample.respondents if self.subsample else None

    def query(self, **extra) -> str:
        pairs = [("source", self.source_value)] if self.source.coder else []
        if self.subsample:
            pairs += [("opt", o.pk) for o in self.subsample.options]
        if self.split:
            pairs.append(("split", self.split.value))
        pairs += [(k, v) for k, v in extra.items() if v not in ("", None)]
        return urlencode(pairs)


def coders_of(poll: Poll):
    """Members who coded answers of this poll: the sources a report can be drawn from."""
    # A member's first coding in the poll, in the coder's index order and LIMIT 1:
    # PostgreSQL plans an EXISTS as a semi-join and hashed each coder's 100,000
    # codings (60 ms), or scanned every coding for a member who coded none.
    first = Coding.objects.filter(coder=OuterRef("pk"), answer__question__poll=poll)
    first = first.order_by("answer").values("pk")[:1]
    return (
        get_user_model()
        .objects.alias(first_coding=Subquery(first))
        .filter(
            first_coding__isnull=False,
            memberships__project=poll.project_id,
            memberships__role__in=(Membership.Role.LEAD, Membership.Role.CODER),
        )
        .order_by("username")
    )


def options_from(poll: Poll, query) -> ReportOptions:
    """The report's options from a query string; anything unknown falls back to the default."""
    options = ReportOptions()
    source = query.get("source", "")
    if source.startswith("coder:"):
        coder = coders_of(poll).filter(username=source.removeprefix("coder:")).first()
        if coder is not None:
            options.source = Source(coder)
    ids = [int(v) for v in query.getlist("opt") if v.isdigit() and len(v) < 19]  # fits a bigint
    chosen = list(Option.objects.filter(question__poll=poll, pk__in=ids).select_related("question"))
    if chosen:  # one question defines the subsample: the first option's
        question = chosen[0].question
        options.subsample = Subsample(question, [o for o in chosen if o.question == question])
    return options


class ThemeLabel(NamedTuple):
    """What a report shows of a theme: read as plain rows, not 600 model instances."""

    pk: int
    name: str
    parent: ThemeLabel | None = None


@dataclass
class ThemeRow:
    theme: ThemeLabel
    respondents: int
    percent: float | None
    quotes: list[tuple[Quote, str]] = field(default_factory=list)  # (quote, attribution)


@dataclass
class QuestionReport:
    number: int
    summary: QuestionSummary
    poll: Poll
    options: ReportOptions
    themes: list[ThemeRow] = field(default_factory=list)
    crosstab: object | None = None  # a coding.crosstabs.Crosstab when the report is split
    comparison: object | None = None  # a coding.comparisons.Comparison with an earlier poll

    @property
    def question(self) -> Question:
        return self.summary.question

    @property
    def base_sentence(self) -> str:
        s = self.summary
        who = "respondents in the subsample" if self.options.subsample else "respondents"
        return f"answered by {s.answered} out of {s.total} {who}"

    @property
    def caption(self) -> list[str]:
        """The figure's caption lines, as the seeds print them."""
        s, poll = self.summary, self.poll
        population = poll.population or "respondents"
        if s.selections is not None:
            base = f"Base: {s.answered} {population.lower()} with {s.selections} responses"
        else:
            base = f"Base: {s.answered} {population}"
        lines = [f"Source: {poll.project.name}", base]
        if self.options.subsample:
            lines.append(f"Subsample: {self.options.subsample.label}")
        if self.options.source.coder:
            lines.append(f"Themes as coded by {self.options.source.coder.get_username()}")
        dates = polled(poll)
        if dates:
            lines.append(f"Polled online, {dates}")
        return lines

    @property
    def bands(self) -> list[tuple[str, int, float | None]]:
        """The lead's scale bands: (label, respondents, % of those answering)."""
        if self.summary.kind != Question.Kind.SCALE or not self.question.bands:
            return []
        counts = {row.value: row.respondents for row in self.summary.rows}
        shown = []
        for low, high, label in parse_bands(self.question.bands):
            n = band_count(counts, low, high)
            shown.append((label, n, percent(n, self.summary.answered)))
        return shown

    @property
    def quotes(self) -> list[tuple[Quote, str, str]]:
        """(quote, attribution, theme name) of every theme's quotes, in the table's order."""
        return [(q, who, row.theme.name) for row in self.themes for q, who in row.quotes]

    @property
    def is_themed(self) -> bool:
        """Free text: its table is the themes (a choice question's are its "other" texts)."""
        return self.summary.kind == Question.Kind.FREE_TEXT

    @property
    def chart_rows(self) -> list[tuple[str, float]]:
        """(label, percent) in the figure's order: themes by frequency, options as asked."""
        if self.is_themed:
            return [(r.theme.name, r.percent or 0) for r in self.themes]
        return [(r.label, r.percent or 0) for r in self.summary.rows]


def polled(poll: Poll) -> str:
    """ "4-21 October 2021", "13 September-2 October 2021", or one date."""
    opened, closed = poll.opened, poll.closed
    if not (opened and closed):
        day = opened or closed
        return f"{day.day} {day:%B %Y}" if day else ""
    if (opened.year, opened.month) == (closed.year, closed.month):
        return f"{opened.day}-{closed.day} {closed:%B %Y}"
    if opened.year == closed.year:
        return f"{opened.day} {opened:%B}-{closed.day} {closed:%B %Y}"
    return f"{opened.day} {opened:%B %Y}-{closed.day} {closed:%B %Y}"


def poll_report(poll: Poll, options: ReportOptions, only: Question | None = None):
    """Every question's report, or with `only` just that one's (a chart needs no other)."""
    summaries = summarise_poll(poll, options.respondents, only)
    reports = []
    for summary in summaries:
        number = summary.question.position
        report = QuestionReport(number, summary, poll, options)
        if summary.kind == Question.Kind.FREE_TEXT or summary.question.has_text:
            report.themes = theme_table(summary, options)
        reports.append(report)
    return reports


def theme_table(summary: QuestionSummary, options: ReportOptions) -> list[ThemeRow]:
    """Themes applied at least once: distinct respondents, most frequent first, with quotes."""
    question = summary.question
    counts = options.source.theme_counts(question, options.respondents)
    if not counts:
        return []
    found = Theme.objects.filter(pk__in=counts)
    themes = [
        ThemeLabel(pk, name, parent and ThemeLabel(parent, parent_name))
        for pk, name, parent, parent_name in found.values_list(
            "pk", "name", "parent", "parent__name"
        )
    ]
    rows = [
        ThemeRow(t, counts[t.pk], percent(counts[t.pk], summary.answered))
        for t in sorted(themes, key=lambda t: (-counts[t.pk], t.name.casefold()))
    ]
    _attach_quotes(question, rows, options)
    return rows


def _attach_quotes(question: Question, rows: list[ThemeRow], options: ReportOptions) -> None:
    quotes = Quote.objects.filter(answer__question=question, themes__in=[r.theme.pk for r in rows])
    if options.source.coder:
        quotes = quotes.filter(coder=options.source.coder)
    if options.respondents is not None:
        quotes = quotes.filter(answer__respondent__in=options.respondents)
    quotes = quotes.select_related("answer__respondent").prefetch_related("themes")
    by_theme = {r.theme.pk: r for r in rows}
    for quote in quotes.distinct().order_by("pk"):
        for theme in quote.themes.all():
            row = by_theme.get(theme.pk)
            if row and len(row.quotes) < QUOTES_PER_THEME:
                row.quotes.append((quote, attribution(quote.answer.respondent)))


def attribution(respondent) -> str:
    attributes = respondent.attributes or {}
    for key in ATTRIBUTION:
        if attributes.get(key):
            return str(attributes[key])
    return ""
