"""Rounds page: a lead deals a question's answers among coders and reveals blind rounds."""

from __future__ import annotations

import random

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Q
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from coding import assignments
from coding.agreement_data import FINISHED
from coding.models import Assignment, Round
from polls.access import CODERS, EDITORS, get_in_project, get_question
from polls.htmx import HtmxHttpRequest

PAGE = "coding/rounds.html"


class RoundForm(forms.Form):
    coders = forms.ModelMultipleChoiceField(
        queryset=get_user_model().objects.none(), widget=forms.CheckboxSelectMultiple
    )
    overlap_percent = forms.IntegerField(
        min_value=0,
        max_value=100,
        label="Overlap sample (% of the answers)",
        help_text="Coded independently by several coders; agreement is measured on it.",
    )
    overlap_coders = forms.IntegerField(
        min_value=2,
        initial=2,
        label="Coders per overlap answer",
        help_text="Two is usual; more gives Fleiss' κ and α over every coder.",
    )
    seed = forms.IntegerField(
        min_value=0, max_value=2**31 - 1, help_text="The same seed deals the same way again."
    )
    blind = forms.BooleanField(
        required=False,
        initial=True,
        label="Blind: coders see only their own codings until you reveal the round",
    )

    def __init__(self, project, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["coders"].queryset = (
            get_user_model()
            .objects.filter(memberships__project=project, memberships__role__in=CODERS)
            .order_by("username")
        )
        self.fields["coders"].label_from_instance = lambda user: user.get_username()


def _progress(question) -> dict[tuple[int, int], dict]:
    """(round id, coder id) → answers dealt, of them in the overlap, and finished (one query)."""
    finished = Q(answer__marks__coder=F("coder"), answer__marks__status__in=FINISHED)
    rows = (
        Assignment.objects.filter(round__question=question)
        .values("round", "coder")
        .annotate(
            dealt=Count("pk", distinct=True),
            overlap=Count("pk", distinct=True, filter=Q(overlap=True)),
            finished=Count("pk", distinct=True, filter=finished),
        )
        .order_by()
    )
    return {(r["round"], r["coder"]): r for r in rows}


def _rounds(question) -> list[dict]:
    progress = _progress(question)
    shown = []
    for round_ in question.rounds.prefetch_related("coders").order_by("number"):
        coders = sorted(round_.coders.all(), key=lambda u: u.get_username())
        rows = [(c, progress.get((round_.pk, c.pk), {})) for c in coders]
        shown.append({"round": round_, "coders": rows})
    return shown


@require_http_methods(["GET", "POST"])
def rounds(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, _ = get_question(request, question, roles=EDITORS)
    project = question.poll.project
    waiting = assignments.undealt(question).count()
    form = RoundForm(
        project,
        request.POST or None,
        initial={
            "overlap_percent": assignments.default_overlap_percent(waiting),
            "seed": random.randrange(1, 10**6),
        },
    )
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                round_ = assignments.create_round(
                    question,
                    data["coders"],
                    data["overlap_percent"],
                    data["seed"],
                    data["blind"],
                    request.user,
                    data["overlap_coders"],
                )
            except assignments.RoundError as e:
                form.add_error(None, str(e))
            else:
                messages.success(request, _dealt_message(round_, waiting))
                return redirect("rounds", question=question.pk)
        status = 400
    ctx = {
        "question": question,
        "project": project,
        "poll": question.poll,
        "rounds": _rounds(question),
        "waiting": waiting,
        "form": form,
        "floor": assignments.OVERLAP_FLOOR,
    }
    return render(request, PAGE, ctx, status=status)


def _dealt_message(round_: Round, answers: int) -> str:
    overlap = assignments.overlap_size(answers, round_.overlap_percent)
    names = ", ".join(sorted(u.get_username() for u in round_.coders.all()))
    return (
        f"Round {round_.number}: {answers} answers dealt to {names}; {overlap} of them "
        f"({round_.overlap_percent}%) go to {round_.overlap_coders} coders each."
    )


def _lead_round(request, pk: int) -> Round:
    round_, _ = get_in_project(request, Round.objects, "question__poll__project", EDITORS, pk=pk)
    return round_


@require_POST
def reveal(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    round_ = _lead_round(request, pk)
    if assignments.reveal(round_, request.user):
        messages.success(
            request, f"Round {round_.number} revealed: coders now see each other's codings."
        )
    return redirect("rounds", question=round_.question_id)


@require_POST
def withdraw(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    round_ = _lead_round(request, pk)
    try:
        assignments.withdraw(round_, request.user)
    except assignments.RoundError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"Round {round_.number} withdrawn; codings already made stay.")
    return redirect("rounds", question=round_.question_id)
