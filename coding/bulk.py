"""Coding many answers at once: the grid, similar answers, keyword rules, duplicates.

Each page lists answers with checkboxes and one "apply to selected" form that
posts to `bulk_apply`, which redirects back (htmx picks the list out of the
page with hx-select), so all four share one action and one undo batch.
"""

from __future__ import annotations

from collections import defaultdict

from django.contrib import messages
from django.db.models import Q
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Length
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from coding import assist, codebook, services
from coding.codebook import CodebookError
from coding.models import Chip, Coding, Mark, Theme
from coding.queue import STATUSES, Filters, Queue
from coding.views import _mine, _queue_url, next_url
from polls.access import CODERS, EDITORS, get_answer, get_question
from polls.bulk_sql import chunks
from polls.htmx import HtmxHttpRequest, partial_for
from polls.paging import seek, window

PAGE_SIZE = 50
CHUNK = 10_000  # answers compared at a time by the similar-answers search
SORTS = {"": "pk", "text": Length("text"), "-text": Length("text").desc()}


def _with_my_codings(answers, coder) -> list:
    """The answers (a list, or a queryset then read with the respondents), each with my
    chips (`mine`) and whether I marked it "no theme applies" (`no_theme`): read as
    plain rows, a chunk at a time."""
    if not isinstance(answers, list):
        answers = list(answers.select_related("respondent"))
    mine: dict[int, list[Chip]] = defaultdict(list)
    no_theme: set[int] = set()
    for chunk in chunks([a.pk for a in answers], 900):  # SQLite's limit on parameters
        codings = Coding.objects.filter(coder=coder, answer__in=chunk)
        rows = codings.order_by("theme__position", "theme__name").values_list(
            "answer", "theme", "theme__name", "theme__colour"
        )
        for answer, *chip in rows:
            mine[answer].append(Chip(*chip))
        marks = Mark.objects.filter(coder=coder, answer__in=chunk, status=Mark.Status.NO_THEME)
        no_theme.update(marks.values_list("answer", flat=True))
    for answer in answers:
        answer.mine, answer.no_theme = mine.get(answer.pk, []), answer.pk in no_theme
    return answers


def _attribute_names(question) -> list[str]:
    """Attribute keys of the poll's respondents (a sample: every respondent has the same)."""
    names: dict[str, None] = {}
    sample = question.poll.respondents.order_by("pk").values_list("attributes", flat=True)
    for attributes in sample[:100]:
        names.update(dict.fromkeys(attributes))
    return list(names)


def _ordering(sort: str, attributes: list[str]):
    if sort.lstrip("-") in attributes:
        # KT("respondent__attributes__X") would read "respondent" as the JSON field.
        key = KeyTextTransform(sort.lstrip("-"), "respondent__attributes")
        return [key.desc() if sort.startswith("-") else key.asc(), "pk"]
    return [SORTS.get(sort, "pk"), "pk"]


def _tool_context(question, role, **extra) -> dict:
    project = question.poll.project
    return {
        "question": question,
        "project": project,
        "themes": project.themes.active().values_list("pk", "name", named=True),
        "can_code": role in CODERS,
        **extra,
    }


@require_GET
def grid(request: HtmxHttpRequest, question: int) -> HttpResponse:
    question, role = get_question(request, question)
    filters = Filters.from_query(request.GET)
    attributes = _attribute_names(question)
    columns = [c for c in request.GET.getlist("col") if c in attributes]
    sort = request.GET.get("sort", "")
    queue = Queue(question, request.user, filters)
    ordering = _ordering(sort, attributes)
    answers = queue.answers().order_by(*ordering)
    by_id = ordering[0] == "pk"  # pages can then start from an id
    answers = answers.select_related("respondent")
    page = window(answers, request.GET.get("page"), PAGE_SIZE, **seek(request.GET) if by_id else {})
    page.rows = _with_my_codings(page.rows, request.user)
    for answer in page.rows:  # the chosen attribute columns, in order
        attributes = answer.respondent.attributes or {}
        answer.cells = [attributes.get(c, "") for c in columns]
    ctx = _tool_context(
        question,
        role,
        page=page,
        by_id=by_id,
        filters=filters,
        statuses=STATUSES,
        attributes=attributes,
        columns=columns,
        sort=sort,
        split_from=question.poll.project.themes.filter(pk=filters.theme or 0).first(),
        is_lead=role in EDITORS,
        here=request.get_full_path(),
        queue_url=_queue_url(question, filters=filters),
        dealt=queue.dealt,
    )
    return render(request, partial_for(request, "coding/grid.html", "grid"), ctx)


@require_POST
def bulk_apply(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """Apply (or remove) one theme on the ticked answers; one undo reverses it all."""
    question, _ = get_question(request, question, roles=CODERS)
    theme = get_object_or_404(
        Theme.objects.filter(project=question.poll.project), pk=request.POST.get("theme") or 0
    )
    ids = [i for i in request.POST.getlist("answers") if i.isdigit()]
    answers = question.answers.filter(pk__in=ids)
    if request.POST.get("action") == "move":  # splitting a theme is the lead's call
        get_question(request, question.pk, roles=EDITORS)
        source = get_object_or_404(question.poll.project.themes, pk=request.POST.get("from") or 0)
        try:
            codebook.split(source, answers, theme, request.user)
        except CodebookError as e:
            messages.error(request, str(e))
    elif request.POST.get("action") == "remove":
        services.remove_from_many(answers, theme, request.user)
    else:
        services.apply_to_many(answers, theme, request.user)
    return redirect(next_url(request, _queue_url(question)))


@require_GET
def similar(request: HtmxHttpRequest, answer: int) -> HttpResponse:
    answer, role = get_answer(request, answer)
    question = answer.question
    threshold = _number(request.GET.get("threshold"), 60, 0, 100)
    uncoded = (
        Queue(question, request.user, Filters(status="uncoded")).answers().exclude(pk=answer.pk)
    )
    scores = dict(_most_similar(services.answer_text(answer), uncoded, threshold))
    found = _with_my_codings(question.answers.filter(pk__in=scores), request.user)
    rows = sorted(found, key=lambda a: -scores[a.pk])
    ctx = _tool_context(
        question,
        role,
        answer=answer,
        rows=[(a, scores[a.pk]) for a in rows],
        threshold=threshold,
        preselect=_mine(answer, request.user),
        here=request.get_full_path(),
        title="Similar answers not yet coded",
        tool="similar",
    )
    return render(request, partial_for(request, "coding/tool.html", "matches"), ctx)


def _most_similar(text: str, answers, threshold: float, limit: int = 50):
    """assist.similar over the answers a chunk at a time: the whole question's texts
    (100,000 answers, 30 MB) never sit in the worker's memory at once."""
    found = []
    rows = answers.values_list("pk", "text", "other_text").iterator(chunk_size=CHUNK)
    for chunk in chunks(rows, CHUNK):
        candidates = [(pk, text or other) for pk, text, other in chunk]
        found += assist.similar(text, candidates, threshold=threshold, limit=limit)
    return sorted(found, key=lambda pair: -pair[1])[:limit]  # stable: ties stay in id order


@require_GET
def rules(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """Keyword rules: every answer matching all the words and "phrases", highlighted."""
    question, role = get_question(request, question)
    query = request.GET.get("q", "")
    terms = assist.parse_query(query)
    rows = []
    if terms:
        answers = Queue(question, request.user).answers()
        for term in terms:  # narrow in the database; assist.matches keeps word prefixes
            answers = answers.filter(Q(text__icontains=term) | Q(other_text__icontains=term))
        matched = [
            a
            for a in _with_my_codings(answers, request.user)
            if assist.matches(services.answer_text(a), terms)
        ]
        rows = [(a, assist.highlight(services.answer_text(a), terms)) for a in matched]
    ctx = _tool_context(
        question,
        role,
        rows=rows,
        query=query,
        here=request.get_full_path(),
        title="Keyword rule",
        tool="rules",
        preselect=set(),
    )
    return render(request, partial_for(request, "coding/tool.html", "matches"), ctx)


@require_GET
def duplicates(request: HtmxHttpRequest, question: int) -> HttpResponse:
    """Exact and near-duplicate answers ("Time", "time.") grouped, to code each group once."""
    question, role = get_question(request, question)
    texts = list(Queue(question, request.user).answers().values_list("pk", "text", "other_text"))
    groups = assist.duplicate_groups([(pk, text or other) for pk, text, other in texts])
    found = question.answers.filter(pk__in=[pk for g in groups for pk in g])
    answers = {a.pk: a for a in _with_my_codings(found, request.user)}
    ctx = _tool_context(
        question,
        role,
        groups=[[answers[pk] for pk in g] for g in groups],
        here=request.get_full_path(),
        title="Duplicate answers",
        tool="duplicates",
        preselect=set(),
    )
    return render(request, partial_for(request, "coding/tool.html", "matches"), ctx)


def _number(value, default: float, low: float, high: float) -> float:
    try:
        return min(high, max(low, float(value)))
    except (TypeError, ValueError):
        return default
