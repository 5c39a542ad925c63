"""The report page, the answers behind each count, charts and report downloads.

Every member may read reports and download them (viewers are report readers).
All of them take the same options in the query string (coding.report_data):
the source of theme codings and a subsample.
"""

from __future__ import annotations

import io
import zipfile
from uuid import UUID

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Value
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from coding import charts, comparisons, crosstabs, drafts
from coding.models import Round
from coding.report_data import (
    QuestionReport,
    ReportOptions,
    attribution,
    coders_of,
    options_from,
    poll_report,
)
from coding.reports import Source, report_tables
from coding.spreadsheets import csv_text, write_xlsx
from polls.access import EDITORS, get_poll, get_question
from polls.downloads import CSV, attachment, slug
from polls.htmx import HtmxHttpRequest, query_without_page
from polls.models import Membership, Question
from polls.stats import parse_bands
from polls.summaries import format_number

PAGE = "coding/report.html"
ANSWERS = "coding/report_answers.html"


def _options(request, poll, role: str, splits=None) -> ReportOptions:
    options = options_from(poll, request.GET)
    if (
        role == Membership.Role.CODER
        and Round.objects.hidden().filter(question__poll=poll).exists()
    ):
        # While a blind round is hidden, a coder's reports show their own coding only.
        options.source = Source(request.user)
        options.blinded = True
    options.split = crosstabs.split_from(poll, request.GET.get("split", ""), splits)
    return options


def _reports(poll, options: ReportOptions, only=None) -> list[QuestionReport]:
    reports = poll_report(poll, options, only)
    comparisons.compare_all(poll, reports, options)
    if options.split:
        for item in reports:
            item.crosstab = crosstabs.crosstab(item, options.split)
    return reports


@require_GET
def report(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    poll, role = get_poll(request, code)
    splits = crosstabs.splits(poll)
    options = _options(request, poll, role, splits)
    choice_questions = poll.questions.filter(
        kind__in=(Question.Kind.SINGLE_CHOICE, Question.Kind.MULTI_CHOICE)
    ).prefetch_related("options")
    wanted = request.GET.get("question", "")
    only = poll.questions.filter(pk=wanted).first() if wanted.isdigit() else None
    ctx = {
        "poll": poll,
        "project": poll.project,
        "only": only,
        "reports": _reports(poll, options, only),
        "splits": splits,
        "options": options,
        "query": options.query(),
        "coders": [] if options.blinded else coders_of(poll),
        "choice_questions": choice_questions.order_by("position"),
        "chosen": {o.pk for o in options.subsample.options} if options.subsample else set(),
        "is_lead": role in EDITORS,
        "twins": _twins(poll),
    }
    return render(request, PAGE, ctx)


def _twins(poll) -> dict[str, list[Question]]:
    """Kind → questions of earlier polls a lead may link a question of that kind to."""
    found: dict[str, list[Question]] = {}
    earlier = Question.objects.filter(poll__in=comparisons.earlier_polls(poll))
    for question in earlier.select_related("poll").order_by("-poll__opened", "position"):
        found.setdefault(question.kind, []).append(question)
    return found


class SettingsForm(forms.Form):
    """What a lead sets per question for the report: scale bands and the earlier twin."""

    bands = forms.CharField(required=False, max_length=200)
    compare_with = forms.ModelChoiceField(queryset=Question.objects.none(), required=False)

    def __init__(self, question: Question, *args, **kwargs):
        super().__init__(*args, **kwargs)
        earlier = comparisons.earlier_polls(question.poll)
        self.fields["compare_with"].queryset = Question.objects.filter(
            poll__in=earlier, kind=question.kind
        )

    def clean_bands(self) -> str:
        try:
            parse_bands(self.cleaned_data["bands"])
        except ValueError as e:
            raise forms.ValidationError(str(e)) from e
        return self.cleaned_data["bands"].strip()


@require_POST
def report_settings(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, _ = get_question(request, question, roles=EDITORS)
    form = SettingsForm(question, request.POST)
    if form.is_valid():
        question.bands = form.cleaned_data["bands"]
        question.compare_with = form.cleaned_data["compare_with"]
        question.save(update_fields=["bands", "compare_with"])
        messages.success(request, f"Report settings of {question.export_id} saved.")
    else:
        errors = "; ".join(e for field in form.errors.values() for e in field)
        messages.error(request, f"{question.export_id}: {errors}")
    back = reverse("report", args=[question.poll.code])
    return redirect(f"{back}?{request.POST.get('query', '')}#q-{question.export_id}")


@require_GET
def chart(request: HtmxHttpRequest, question: int, fmt: str) -> HttpResponse:
    if fmt not in ("png", "svg"):
        raise Http404
    question, role = get_question(request, question)
    poll = question.poll
    (item,) = poll_report(poll, _options(request, poll, role), only=question)
    data = charts.render(item, fmt)
    content_type = "image/svg+xml" if fmt == "svg" else "image/png"
    if request.GET.get("download"):
        return attachment(
            data, f"figure-{item.number}-{slug(question.export_id)}.{fmt}", content_type
        )
    return HttpResponse(data, content_type=content_type)


@require_GET
def answers_behind(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """The respondents a count in the report stands for (a theme, an option or a scale
    point) with what they answered."""
    question, role = get_question(request, question)
    poll = question.poll
    options = _options(request, poll, role)
    theme_id, option_id, value = (request.GET.get(k, "") for k in ("theme", "option", "value"))
    respondents = poll.respondents.with_answer_to(question)
    if theme_id.isdigit():
        theme = get_object_or_404(poll.project.themes, pk=int(theme_id))
        coded = options.source.answers_with(question, theme).values("pk")
        behind = respondents.filter(answers__pk__in=coded)
        label = f"coded {theme.name}"
    elif option_id.isdigit():
        option = get_object_or_404(question.options, pk=int(option_id))
        behind = respondents.filter(selections__question=question, selections__option=option)
        label = f"who chose “{option.text}”"
    elif value:
        try:
            point = float(value)
        except ValueError as e:
            raise Http404 from e
        behind = poll.respondents.filter(ratings__question=question, ratings__value=point)
        behind = behind.annotate(written=Value(format_number(point)))
        label = f"who answered {value}"
    else:
        behind = respondents.filter(answers__question=question)
        label = ""
    if options.respondents is not None:
        behind = behind.filter(pk__in=options.respondents)
    page = Paginator(behind.order_by("position"), 50).get_page(request.GET.get("page"))
    ctx = {
        "poll": poll,
        "project": poll.project,
        "question": question,
        "options": options,
        "label": label,
        "page": page,
        "rows": [(r, r.written, attribution(r)) for r in page.object_list],
        "back": options.query(),
        "pager_query": query_without_page(request.GET),
    }
    return render(request, ANSWERS, ctx)


@require_GET
def download(request: HtmxHttpRequest, code: UUID, name: str) -> HttpResponse:
    poll, role = get_poll(request, code)
    options = _options(request, poll, role)
    name_part = slug(poll.title, "report")
    if name == "report.xlsx":
        out = io.BytesIO()
        sheets = report_tables(poll, options.source, options.respondents)
        if options.split:
            sheets += [_crosstab_sheet(r) for r in _reports(poll, options)]
        write_xlsx(out, sheets)
        content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return attachment(out.getvalue(), f"{name_part}.xlsx", content_type)
    reports = poll_report(poll, options)
    if name == "quotes.csv":
        return attachment(_quotes_csv(reports), f"{name_part}-quotes.csv", CSV)
    if name == "draft.md":
        return attachment(
            drafts.markdown(poll, reports), f"{name_part}.md", "text/markdown; charset=utf-8"
        )
    if name == "draft.docx":
        figures = {r.question.pk: charts.render(r, "png") for r in reports}
        content_type = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
        return attachment(drafts.docx(poll, reports, figures), f"{name_part}.docx", content_type)
    if name == "figures.zip":
        return attachment(_figures_zip(reports), f"{name_part}-figures.zip", "application/zip")
    raise Http404


def _crosstab_sheet(item: QuestionReport) -> tuple[str, list[str], list[list]]:
    """A crosstab as a sheet: per column its respondents and column %, then the bases."""
    table = item.crosstab
    header = ["row"]
    for _, heading in table.columns:
        header += [f"{heading} (n)", f"{heading} (%)"]
    rows = [[label, *[v for cell in cells for v in cell]] for label, cells in table.rows]
    rows.append(["Base (answered)", *[v for base in table.bases for v in (base, None)]])
    return f"{item.question.export_id} by {item.options.split.label}", header, rows


def _quotes_csv(reports: list[QuestionReport]) -> str:
    rows = [
        [
            item.question.export_id,
            row.theme.name,
            quote.text,
            who,
            quote.answer.respondent.export_id,
        ]
        for item in reports
        for row in item.themes
        for quote, who in row.quotes
    ]
    return csv_text(["question", "theme", "quote", "attribution", "respondent_id"], rows)


def _figures_zip(reports: list[QuestionReport]) -> bytes:
    """figures/<QID>.png and .svg: the paths the Markdown draft links to."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for item in reports:
            for fmt in ("png", "svg"):
                archive.writestr(
                    f"figures/{item.question.export_id}.{fmt}", charts.render(item, fmt)
                )
    return out.getvalue()
