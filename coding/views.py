"""The coding workbench: a queue of answers, one at a time or as a grid.

Every action is a POST that states its result (apply, remove, mark) and
answers an htmx request with the refreshed panel, or a plain form post with a
redirect back to where the coder was (the `next` field), so the workbench
works without JavaScript too.
"""

from __future__ import annotations

from typing import NamedTuple

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from coding import assignments, assist, services
from coding.models import Chip, Coding, Mark, Quote, Theme, ThemeButton
from coding.queue import STATUSES, Filters, Queue
from coding.suggestions import suggester
from polls.access import CODERS, EDITORS, get_answer, get_answer_ref, get_question
from polls.htmx import HtmxHttpRequest, partial_for, wants_partial
from polls.models import Answer

QUEUE = "coding/queue.html"
PLACE = "place"  # the queue's cookie: the answer the coder was at


def _queue_url(question, answer=None, filters: Filters | None = None) -> str:
    """The queue at this answer (an Answer or its id), keeping the filters."""
    answer_id = getattr(answer, "pk", answer)
    query = (filters or Filters()).as_query(answer=answer_id or "")
    return reverse("queue", args=[question.pk]) + (f"?{query}" if query else "")


def next_url(request, fallback: str) -> str:
    url = request.POST.get("next", "")
    if url and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}):
        return url
    return fallback


def _filters_of(request) -> Filters:
    """The queue's filters, from the page's query string or the form's `next`."""
    if request.method == "GET":
        return Filters.from_query(request.GET)
    next_url = request.POST.get("next", "")
    return Filters.from_query(QueryDict(next_url.partition("?")[2]))


def _actions(request, question, answer, role, **extra) -> dict:
    """What the coding form shows for one answer: chips, marks and the theme buttons."""
    chips = [Chip(*row) for row in Coding.objects.chips(answer.pk, request.user.pk)]
    return {
        "question": question,
        "project": question.poll.project,
        "answer": answer,
        "themes": Theme.objects.buttons_for(question),
        "applied": chips,
        "applied_ids": {chip.pk for chip in chips},
        "mark": Mark.objects.state_of(answer.pk, request.user.pk),
        "can_code": role in CODERS,
        "flags": Mark.Flag.choices[1:],
        **extra,
    }


def _panel(request, queue: Queue, answer, role: str, place=None, **extra) -> dict:
    """Everything the one-at-a-time panel shows for one answer.

    The counts (progress, "answer n of m") cost more than the rest together at
    100,000 answers, so an htmx panel leaves them to a request of their own
    (queue_progress) that its page sends once the answer is on screen.
    """
    question = queue.question
    place = place or queue.place(answer.pk)
    previous, following, next_uncoded = place.previous, place.following, place.next_uncoded
    here = _queue_url(question, answer, queue.filters)
    ctx = _actions(request, question, answer, role, here=here, **extra)
    ctx |= {
        "text": services.answer_text(answer),
        "quotes": Quote.objects.filter(answer=answer, coder=request.user).prefetch_related(
            "themes"
        ),
        "previous_url": previous and _queue_url(question, previous, queue.filters),
        "next_url": following and _queue_url(question, following, queue.filters),
        "next_uncoded_url": next_uncoded and _queue_url(question, next_uncoded, queue.filters),
        "filters": queue.filters,
        "statuses": STATUSES,
        "is_lead": role in EDITORS,
        "dealt": queue.dealt,
        "others": _others(answer, question, request.user, role),
    }
    if not wants_partial(request):
        ctx |= _counts(queue, answer)
    return ctx


def _counts(queue: Queue, answer) -> dict:
    answers = queue.answers()
    return {
        "progress_url": _progress_url(queue.question, queue.filters),
        "progress": queue.progress(),
        "position": queue.position(answer),
        "in_queue": answers.filter(pk=answer.pk).exists(),
        "count": answers.count(),
    }


def _progress_url(question, filters: Filters) -> str:
    """Where #progress refreshes itself from (the answer comes from #progress-answer)."""
    query = filters.as_query()
    return reverse("queue-progress", args=[question.pk]) + (f"?{query}" if query else "")


def _refreshing_progress(response: HttpResponse) -> HttpResponse:
    """The panel or form changed: #progress asks for its counts once the swap is done.

    One element sends every such request and a new one cancels the one before,
    so a slow count can never land after a newer one.
    """
    response["HX-Trigger-After-Settle"] = "refresh-progress"
    return response


@require_GET
def queue_progress(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """The queue's progress bars and the answer's place in it, for the htmx panel."""
    question, _ = get_question(request, question)
    queue = Queue(question, request.user, _filters_of(request))
    answer = get_object_or_404(queue.all(), pk=request.GET.get("answer") or 0)
    ctx = {"filters": queue.filters, **_counts(queue, answer)}
    return render(request, f"{QUEUE}#progress", ctx)


def _others(answer, question, user, role) -> dict | None:
    """Other coders' themes on this answer, unless a blind round hides them (None)."""
    if not assignments.sees_others(role, question):
        return None
    others: dict[str, list] = {}
    rows = Coding.objects.others_on(answer.pk, user.pk)
    for coder, theme, colour in sorted(rows, key=lambda r: (r[1] is None, r[1] or "", r[0])):
        chips = others.setdefault(coder, [])
        if theme is not None:
            chips.append(Chip(0, theme, colour))
    return others


@require_GET
def queue(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, role = get_question(request, question)
    q = Queue(question, request.user, _filters_of(request))
    wanted = request.GET.get("answer") or request.COOKIES.get(PLACE) or ""
    place = q.place(int(wanted) if wanted.isdigit() and len(wanted) < 19 else None)
    if place is None:
        ctx = {
            "question": question,
            "project": question.poll.project,
            "answer": None,
            "filters": q.filters,
            "statuses": STATUSES,
            "progress": q.progress(),
            "dealt": q.dealt,
        }
        return render(request, QUEUE, ctx)
    answer = Answer.objects.select_related("respondent").get(pk=place.answer)
    ctx = _panel(request, q, answer, role, place)
    response = render(request, partial_for(request, QUEUE, "panel"), ctx)
    _remember_place(response, question, answer)
    return _refreshing_progress(response) if wants_partial(request) else response


def _remember_place(response: HttpResponse, question, answer) -> None:
    """Back at this answer after a reload or a visit elsewhere.

    A cookie scoped to the queue's URL rather than the session: saving the
    session on every answer shown was a database write (and, on PostgreSQL, a
    commit) per key press. The id is no secret; the queue checks it anyway.
    """
    response.set_cookie(
        PLACE,
        str(answer.pk),
        max_age=90 * 24 * 3600,
        path=reverse("queue", args=[question.pk]),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def _after_action(request, answer, role, **extra) -> HttpResponse:
    question = answer.question
    filters = _filters_of(request)
    if request.htmx:
        ctx = _panel(
            request, Queue(question, request.user, filters), answer, role, saved=True, **extra
        )
        return _refreshing_progress(render(request, f"{QUEUE}#panel", ctx))
    return redirect(next_url(request, _queue_url(question, answer, filters)))


def _after_coding(request, answer, role) -> HttpResponse:
    """An action on the coding form: htmx gets the form back, the rest of the panel stands.

    Buttons elsewhere (suggestions, search results) swap the whole panel as before.
    """
    if not request.htmx or request.htmx.target != "actions":
        return _after_action(request, answer, role)
    filters = _filters_of(request)
    question = answer.question
    here = _queue_url(question, answer, filters)
    ctx = _actions(request, question, answer, role, here=here, saved_only=True)
    return _refreshing_progress(render(request, f"{QUEUE}#actions", ctx))


@require_POST
def apply_theme(request: HtmxHttpRequest, answer: int, theme: int) -> HttpResponse:
    return _code(request, answer, theme, services.apply_theme)


@require_POST
def remove_theme(request: HtmxHttpRequest, answer: int, theme: int) -> HttpResponse:
    return _code(request, answer, theme, services.remove_theme)


def _code(request, answer: int, theme: int, action) -> HttpResponse:
    ref, role = get_answer_ref(request, answer, roles=CODERS)
    # The service reads the theme itself, locked and within the project: one read, not two.
    try:
        action(ref, Theme(pk=theme, project_id=ref.project_id), request.user)
    except Theme.DoesNotExist:
        raise Http404 from None
    if request.htmx and request.htmx.target == "coded":
        coded = Coding.objects.after_change(ref.pk, request.user.pk, theme)
        if coded.button is not None:  # else merged meanwhile: the whole form, as it stands
            return _coded(request, ref, coded)
    answer, role = get_answer(request, ref.pk, roles=CODERS)
    return _after_coding(request, answer, role)


def _coded(request, answer, coded) -> HttpResponse:
    """A theme button or chip pressed: its chips and marks, that one button and "Saved".

    The rest of the coding form (300 theme buttons) stands; the suggestions,
    which show what is applied, ask for themselves again.
    """
    theme = coded.button
    ctx = {
        "answer": answer,
        "applied": coded.chips,
        "mark": coded.mark,
        "can_code": True,
        "flags": Mark.Flag.choices[1:],
        "change": Change(theme, any(chip.pk == theme.pk for chip in coded.chips)),
    }
    response = render(request, f"{QUEUE}#coded", ctx)
    response["HX-Trigger-After-Settle"] = "refresh-progress, refresh-suggestions"
    return response


class Change(NamedTuple):
    theme: ThemeButton
    on: bool


@require_POST
def no_theme(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer, roles=CODERS)
    services.mark_no_theme(answer, request.user, request.POST.get("on", "1") == "1")
    return _after_coding(request, answer, role)


@require_POST
def flag(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer, roles=CODERS)
    value = request.POST.get("flag", "")
    if value not in Mark.Flag.values:
        return HttpResponse("Unknown flag", status=400)
    services.set_flag(answer, request.user, value)
    return _after_coding(request, answer, role)


@require_POST
def memo(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer, roles=CODERS)
    services.set_memo(answer, request.user, request.POST.get("memo", "")[:10_000])
    return _after_action(request, answer, role)


@require_POST
def save_quote(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer, roles=CODERS)
    try:
        start, end = int(request.POST["start"]), int(request.POST["end"])
    except (KeyError, ValueError):
        return HttpResponse("start and end must be numbers", status=400)
    project = answer.question.poll.project
    theme_ids = [t for t in request.POST.getlist("themes") if t.isdigit()]
    themes = Theme.objects.filter(project=project, pk__in=theme_ids)
    try:
        services.save_quote(answer, request.user, start, end, themes)
    except ValueError as e:
        return HttpResponse(str(e), status=400)
    return _after_action(request, answer, role)


@require_POST
def delete_quote(request: HtmxHttpRequest, code) -> HttpResponse:
    quote = get_object_or_404(Quote.objects.select_related("answer"), code=code, coder=request.user)
    answer, role = get_answer(request, quote.answer_id, roles=CODERS)
    services.delete_quote(quote, request.user)
    return _after_action(request, answer, role)


@require_POST
def undo(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, role = get_question(request, question, roles=CODERS)
    events = services.undo_last(request.user, question)
    answer_id = request.POST.get("answer", "")
    answer = question.answers.filter(pk=answer_id).first() if answer_id.isdigit() else None
    # Undo shows the answer the undone action touched, so the coder sees what changed.
    touched = next((e.answer for e in events if e.answer_id), None)
    answer = touched or answer
    undone = events[0].get_action_display().lower() if events else None
    if answer is None:
        return redirect(next_url(request, _queue_url(question)))
    if not request.htmx:
        messages.info(request, f"Undone: {undone}." if undone else "Nothing to undo.")
        return redirect(_queue_url(question, answer, _filters_of(request)))
    return _after_action(request, answer, role, undone=undone or "nothing")


@require_GET
def search_themes(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, role = get_question(request, question)
    answer_id = request.GET.get("answer", "")
    answer = question.answers.filter(pk=answer_id).first() if answer_id.isdigit() else None
    themes = _by_id(question)
    found = assist.search_themes(request.GET.get("name", ""), _entries(themes))
    applied = _mine(answer, request.user)
    results = [(themes[e.id], score, e.id in applied) for e, score in found]
    ctx = {
        "results": results,
        "answer": answer,
        "question": question,
        "query": request.GET.get("name", ""),
        "can_code": role in CODERS,
    }
    return render(request, "coding/_search_results.html", ctx)


def _mine(answer, coder) -> set[int]:
    """The ids of the themes this coder applied to the answer."""
    if answer is None:
        return set()
    return set(Coding.objects.filter(answer=answer, coder=coder).values_list("theme", flat=True))


def _by_id(question) -> dict[int, Theme]:
    """The themes offered when coding this question."""
    return {t.pk: t for t in question.poll.project.themes.offered_for(question)}


def _entries(themes: dict[int, Theme]) -> list[assist.ThemeEntry]:
    """The codebook as the rapidfuzz helpers see it."""
    return [
        assist.ThemeEntry(t.pk, t.name, t.description, tuple(t.alias_list)) for t in themes.values()
    ]


@require_POST
def create_theme(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """Inductive coding: a new theme, applied at once to the answer being read."""
    question, role = get_question(request, question, roles=CODERS)
    project = question.poll.project
    answer_id = request.POST.get("answer", "")
    answer = get_object_or_404(question.answers, pk=answer_id) if answer_id.isdigit() else None
    name = " ".join(request.POST.get("name", "").split())[:200]
    if not name:
        return _after_action(request, answer, role) if answer else redirect(_queue_url(question))
    existing = project.themes.filter(name__iexact=name).first()
    close = assist.near_duplicates(name, _entries({t.pk: t for t in project.themes.active()}))
    if existing is None and close and request.POST.get("confirm") != "1":
        warning = {"name": name, "close": Theme.objects.filter(pk__in=[e.id for e in close])}
        if answer is None:
            return redirect(_queue_url(question))
        if not request.htmx:
            messages.warning(request, f"“{name}” is close to an existing theme; confirm below.")
        return _after_action(request, answer, role, warning=warning)
    theme = existing or services.create_theme(project, name, request.user, question=question)
    if answer is not None:
        services.apply_theme(answer, theme, request.user)
        return _after_action(request, answer, role)
    return redirect(_queue_url(question))


@require_GET
def suggestions(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer)
    question = answer.question
    themes = _by_id(question)
    model = suggester(question, request.user, _entries(themes))
    ranked = model.suggest(services.answer_text(answer))
    applied = _mine(answer, request.user)
    ctx = {
        "answer": answer,
        "suggestions": [(themes[pk], score, pk in applied) for pk, score in ranked if pk in themes],
        "can_code": role in CODERS,
        "here": request.GET.get("next", ""),
    }
    return render(request, "coding/_suggestions.html", ctx)
