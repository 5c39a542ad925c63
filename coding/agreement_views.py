"""The agreement page, the disagreements list and settling answers into the consensus.

Both pages work on a scope: one round's overlap sample and its coders
(`?round=N`, the latest round by default), or every answer of the question and
every coder who finished one (`?round=all`, e.g. after import_codings).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from coding import adjudication, tallies
from coding.agreement_data import FINISHED, HEADER, agreement_rows, coded_sets, theme_names
from coding.agreement_report import CONVENTION, agreement_report
from coding.models import Adjudication, Assignment, Round, Theme
from coding.spreadsheets import csv_text
from coding.views import next_url
from polls.access import EDITORS, get_answer, get_question
from polls.downloads import attachment
from polls.htmx import HtmxHttpRequest, partial_for
from polls.models import Answer, Question

AGREEMENT = "coding/agreement.html"
DISAGREEMENTS = "coding/disagreements.html"
PER_PAGE = 25
KEEP_SECONDS = 24 * 3600  # a kept report is good for as long as its version lasts


@dataclass
class Scope:
    question: Question
    rounds: list[Round]
    round: Round | None
    coders: list

    @classmethod
    def of(cls, question: Question, query) -> Scope:
        rounds = list(question.rounds.prefetch_related("coders").order_by("number"))
        wanted = query.get("round", "")
        chosen = None
        if rounds and wanted != "all":
            chosen = next((r for r in rounds if str(r.number) == wanted), rounds[-1])
        if chosen:
            coders = list(chosen.coders.all())
        else:
            coders = list(
                get_user_model()
                .objects.filter(marks__answer__question=question, marks__status__in=FINISHED)
                .distinct()
            )
        coders.sort(key=lambda u: u.get_username())
        return cls(question, rounds, chosen, coders)

    @property
    def answers(self):
        """The answers compared: the round's overlap sample, or all (None)."""
        if self.round is None:
            return None
        return Assignment.objects.filter(round=self.round, overlap=True).values("answer")

    @property
    def value(self) -> str:
        return str(self.round.number) if self.round else "all"

    def query(self, **extra) -> str:
        params = {"round": self.value, **extra}
        return urlencode({k: v for k, v in params.items() if v not in ("", None)})


def _pair(scope: Scope, value: str) -> list:
    """`?pair=ID,ID` narrows a many-coder scope to two of its coders."""
    ids = value.split(",")
    chosen = [c for c in scope.coders if str(c.pk) in ids]
    return chosen if len(chosen) == 2 else scope.coders


@require_GET
def agreement(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, _ = get_question(request, question, roles=EDITORS)
    scope = Scope.of(question, request.GET)
    coders = _pair(scope, request.GET.get("pair", ""))
    if request.GET.get("format") == "csv" and len(coders) == 2:
        return _csv(question, coders)
    report, progress = _figures(question, scope, coders)
    ctx = {
        "question": question,
        "poll": question.poll,
        "project": question.poll.project,
        "scope": scope,
        "coders": coders,
        "pair": ",".join(str(c.pk) for c in coders) if coders != scope.coders else "",
        "report": report,
        "convention": CONVENTION,
        "progress": progress,
    }
    return render(request, AGREEMENT, ctx)


def _figures(question: Question, scope: Scope, coders: list):
    """(the agreement report or None, the settling progress), kept between views.

    Reading 270,000 marks and codings and computing the figures takes most of a
    second at 20,000 double-coded answers; everything they rest on (codings,
    marks, settlements) bumps the question's version (coding.tallies), so a
    report kept under the version it was computed at is that of now.
    """
    version = tallies.version_of(question.pk)  # before reading: see coding.tallies
    ids = ",".join(str(c.pk) for c in [*scope.coders, None, *coders] if c) if coders else ""
    key = f"agreement:{question.pk}:{version}:{scope.round.pk if scope.round else 'all'}:{ids}"
    kept = cache.get(key)
    if kept is None:
        # Read once for the figures and the progress; both need only answers two coders finished.
        finished = Counter()
        sets = coded_sets(question, scope.coders, scope.answers, shared=True, finished=finished)
        report = None
        if len(coders) >= 2:
            report = agreement_report(question, coders, sets=sets, finished=finished)
        kept = (report, _settled_progress(scope, sets))
        cache.set(key, kept, KEEP_SECONDS)
    report, progress = kept
    if report is not None:
        report = report.renamed(coders, theme_names(question))
    return report, progress


def _csv(question: Question, coders: list) -> HttpResponse:
    """The `agreement` command's CSV for these two coders, over every answer both finished."""
    a, b = coders
    name = f"agreement-{question.export_id}-{a.get_username()}-{b.get_username()}.csv"
    return attachment(csv_text(HEADER, agreement_rows(question, a, b)), name)


def _settled_progress(scope: Scope, sets=None) -> dict:
    found = adjudication.disagreements(scope.question, scope.coders, scope.answers, sets)
    ids = [d.answer_id for d in found]
    settled = Adjudication.objects.filter(answer__in=ids).count()
    return {"total": len(ids), "settled": settled, "open": len(ids) - settled}


@require_GET
def disagreements(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, _ = get_question(request, question, roles=EDITORS)
    scope = Scope.of(question, request.GET)
    found = adjudication.disagreements(question, scope.coders, scope.answers)
    settled = set(
        Adjudication.objects.filter(answer__in=[d.answer_id for d in found]).values_list(
            "answer_id", flat=True
        )
    )
    theme = request.GET.get("theme", "")
    status = request.GET.get("status", "")
    shown = [
        d
        for d in found
        if (not theme.isdigit() or int(theme) in d.union)
        and (status != "open" or d.answer_id not in settled)
        and (status != "settled" or d.answer_id in settled)
    ]
    page = Paginator(shown, PER_PAGE).get_page(request.GET.get("page"))
    names = theme_names(question)
    used = sorted({t for d in found for t in d.union}, key=lambda t: names[t].casefold())
    ctx = {
        "question": question,
        "poll": question.poll,
        "project": question.poll.project,
        "scope": scope,
        "rows": _rows(question, scope, page.object_list),
        "page": page,
        "filter_themes": [(t, names[t]) for t in used],
        "theme": theme,
        "status": status,
        "here": request.get_full_path(),
        "pager_query": scope.query(theme=theme, status=status),
        "progress": {
            "total": len(found),
            "settled": len(settled),
            "open": len(found) - len(settled),
        },
        "all_themes": Theme.objects.filter(project=question.poll.project).active(),
    }
    return render(request, DISAGREEMENTS, ctx)


def _rows(question: Question, scope: Scope, found: list[adjudication.Disagreement]) -> list:
    """One row per disagreement: the answer, each coder's chips, the settlement if any."""
    ids = [d.answer_id for d in found]
    answers = Answer.objects.filter(pk__in=ids).select_related("respondent").in_bulk()
    settled = Adjudication.objects.filter(answer__in=ids).prefetch_related("themes")
    settled = {a.answer_id: a for a in settled.select_related("taken_from", "settled_by")}
    themes = Theme.objects.filter(pk__in={t for d in found for t in d.union}).in_bulk()
    rows = []
    for d in found:
        rows.append(
            {
                "answer": answers[d.answer_id],
                "columns": [
                    (c, [themes[t] for t in sorted(d.sets[c.pk], key=lambda t: themes[t].name)])
                    if c.pk in d.sets
                    else (c, None)
                    for c in scope.coders
                ],
                "union": sorted((themes[t] for t in d.union), key=lambda t: t.name.casefold()),
                "settled": settled.get(d.answer_id),
            }
        )
    return rows


def _chosen_themes(request, answer: Answer, sets: dict[int, frozenset]):
    """The theme set the lead chose: one coder's, the union, or an edit. None if invalid."""
    choice = request.POST.get("choice", "")
    project = answer.question.poll.project
    if choice.startswith("coder:"):
        coder_id = choice.removeprefix("coder:")
        if not coder_id.isdigit() or int(coder_id) not in sets:
            return None
        coder = get_user_model().objects.get(pk=int(coder_id))
        return Adjudication.Method.CODER, sets[coder.pk], coder
    if choice == "union":
        return Adjudication.Method.UNION, frozenset().union(*sets.values()), None
    if choice == "edit":
        ids = {int(v) for v in request.POST.getlist("themes") if v.isdigit()}
        added = request.POST.get("add", "").strip()
        chosen = set(Theme.objects.filter(project=project, pk__in=ids).values_list("pk", flat=True))
        if added:
            extra = Theme.objects.filter(project=project, name__iexact=added).first()
            if extra is None:
                return None
            chosen.add(extra.pk)
        return Adjudication.Method.EDIT, frozenset(chosen), None
    return None


@require_POST
def settle(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, _ = get_answer(request, answer, roles=EDITORS)
    question = answer.question
    scope = Scope.of(question, request.POST)
    sets = coded_sets(question, _finished_coders(answer), [answer.pk]).get(answer.pk, {})
    chosen = _chosen_themes(request, answer, sets)
    if chosen is None:
        return HttpResponse("Choose one coder's themes, the union, or an edit.", status=400)
    method, theme_ids, taken_from = chosen
    themes = Theme.objects.filter(pk__in=theme_ids)
    adjudication.settle(
        answer, request.user, method, themes, request.POST.get("note", "").strip(), taken_from
    )
    return _after_change(request, scope, answer, sets)


@require_POST
def unsettle(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, _ = get_answer(request, answer, roles=EDITORS)
    scope = Scope.of(answer.question, request.POST)
    sets = coded_sets(answer.question, _finished_coders(answer), [answer.pk]).get(answer.pk, {})
    adjudication.unsettle(answer, request.user)
    return _after_change(request, scope, answer, sets)


def _finished_coders(answer: Answer):
    return (
        get_user_model().objects.filter(marks__answer=answer, marks__status__in=FINISHED).distinct()
    )


def _after_change(request, scope: Scope, answer: Answer, sets) -> HttpResponse:
    """htmx: the answer's row and the progress bar; otherwise back to the list."""
    if not request.htmx:
        return redirect(next_url(request, _list_url(scope)))
    row = _rows(scope.question, scope, [adjudication.Disagreement(answer.pk, sets)])[0]
    ctx = {
        "row": row,
        "scope": scope,
        "question": scope.question,
        "progress": _settled_progress(scope),
        "all_themes": Theme.objects.filter(project=scope.question.poll.project).active(),
        "oob": True,
        "here": request.POST.get("next", ""),
    }
    return render(request, partial_for(request, DISAGREEMENTS, "row"), ctx)


def _list_url(scope: Scope) -> str:
    return reverse("disagreements", args=[scope.question.pk]) + "?" + scope.query()
