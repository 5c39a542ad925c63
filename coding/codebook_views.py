"""The codebook page: the theme tree, edited in place by leads, with history."""

from __future__ import annotations

from uuid import UUID

from django import forms
from django.contrib import messages
from django.db.models import Count, F, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from coding import assignments, codebook, codebook_io, refi, refi_export, services
from coding.codebook import CodebookError
from coding.models import RESERVED_KEYS, Coding, Event, Quote, Theme
from polls.access import EDITORS, get_answer, get_in_project, get_project
from polls.downloads import attachment, slug
from polls.htmx import HtmxHttpRequest, partial_for
from polls.importers.types import ImportProblem
from polls.models import Membership, Question

PAGE = "coding/codebook.html"


class ThemeForm(forms.ModelForm):
    class Meta:
        model = Theme
        fields = [
            "name",
            "description",
            "inclusion",
            "exclusion",
            "aliases",
            "colour",
            "shortcut",
            "parent",
            "position",
            "questions",
        ]
        widgets = {
            "colour": forms.TextInput(attrs={"type": "color"}),
            "description": forms.Textarea(attrs={"rows": 2}),
            "inclusion": forms.Textarea(attrs={"rows": 2}),
            "exclusion": forms.Textarea(attrs={"rows": 2}),
            "aliases": forms.Textarea(attrs={"rows": 2}),
            "questions": forms.CheckboxSelectMultiple,
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        theme = self.instance
        inside = codebook.subtree(theme)
        self.fields["parent"].queryset = theme.project.themes.exclude(pk__in=inside)
        self.fields["questions"].queryset = Question.objects.filter(
            poll__project=theme.project
        ).select_related("poll")
        self.fields["questions"].label_from_instance = lambda q: (
            f"{q.poll.title} · {q.export_id} {q.text[:60]}"
        )

    def clean_name(self):
        name = " ".join(self.cleaned_data["name"].split())
        clash = self.instance.project.themes.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError(f"The project already has a theme “{name}”.")
        return name

    def clean_shortcut(self):
        key = self.cleaned_data["shortcut"].strip()
        if key and key in RESERVED_KEYS:
            raise forms.ValidationError(f"“{key}” is one of the workbench's own keys.")
        project = self.instance.project
        if key and project.themes.filter(shortcut=key).exclude(pk=self.instance.pk).exists():
            raise forms.ValidationError(f"Another theme already uses “{key}”.")
        return key


def _tree(themes: list[Theme]) -> list[tuple[Theme, int]]:
    """Themes depth first, each with its depth, children in position order."""
    children: dict[int | None, list[Theme]] = {}
    for theme in sorted(themes, key=lambda t: (t.position, t.name.casefold())):
        children.setdefault(theme.parent_id, []).append(theme)
    ordered: list[tuple[Theme, int]] = []

    def walk(parent_id, depth):
        for theme in children.get(parent_id, []):
            ordered.append((theme, depth))
            walk(theme.pk, depth + 1)

    walk(None, 0)
    return ordered


def _blinded(queryset, user, hidden: set[int], answer: str = "answer"):
    """Drop other coders' rows on questions a blind round still hides."""
    if not hidden:
        return queryset
    others = Q(**{f"{answer}__question__in": hidden}) & ~Q(coder=user)
    return queryset.exclude(others)


def _counts(
    project, user, hidden: set[int]
) -> tuple[dict[int, int], dict[int, list[tuple[Question, int]]]]:
    """Answers per theme, sub-themes included: in all and per question (one query)."""
    rows = (
        _blinded(Coding.objects.filter(theme__project=project), user, hidden)
        .values_list(F("theme__ancestor_paths__ancestor"), "answer__question")
        .annotate(n=Count("answer", distinct=True))
        .order_by()
    )
    questions = Question.objects.filter(poll__project=project).select_related("poll").in_bulk()
    total: dict[int, int] = {}
    per_question: dict[int, list[tuple[Question, int]]] = {}
    for theme_id, question_id, n in rows:
        total[theme_id] = total.get(theme_id, 0) + n
        per_question.setdefault(theme_id, []).append((questions[question_id], n))
    return total, per_question


def _examples(project, user, hidden: set[int], per_theme: int = 2) -> dict[int, list[Quote]]:
    quotes = _blinded(Quote.objects.filter(answer__question__poll__project=project), user, hidden)
    links = (
        Quote.themes.through.objects.filter(theme__project=project, quote__in=quotes)
        .select_related("quote")
        .order_by("-quote_id")[:1000]
    )
    examples: dict[int, list[Quote]] = {}
    for link in links:
        shown = examples.setdefault(link.theme_id, [])
        if len(shown) < per_theme:
            shown.append(link.quote)
    return examples


def _context(request, project, role) -> dict:
    themes = list(project.themes.prefetch_related("questions").select_related("merged_into"))
    # Coders in a blind round see only their own codings of its question.
    coder = role == Membership.Role.CODER
    hidden = assignments.hidden_question_ids(project) if coder else set()
    total, per_question = _counts(project, request.user, hidden)
    examples = _examples(project, request.user, hidden)
    rows = [
        {
            "theme": t,
            "depth": d,
            "total": total.get(t.pk, 0),
            "per_question": per_question.get(t.pk, []),
            "examples": examples.get(t.pk, []),
        }
        for t, d in _tree(themes)
    ]
    merges = Event.objects.filter(project=project, action=Event.Action.MERGE, undone_at=None)
    return {
        "project": project,
        "rows": rows,
        "can_edit": role in EDITORS,
        "blinded": bool(hidden),
        "active": [t for t in themes if not t.archived],
        "merges": merges.select_related("user", "theme")[:5],
    }


@require_GET
def codebook_page(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, role = get_project(request, code)
    return render(request, PAGE, _context(request, project, role))


def _lead_theme(request, pk: int) -> Theme:
    return get_in_project(request, Theme.objects.all(), "project", EDITORS, pk=pk)[0]


def _back(theme: Theme):
    return redirect("codebook", code=theme.project.code)


@require_POST
def theme_add(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, _ = get_project(request, code, roles=EDITORS)
    name = " ".join(request.POST.get("name", "").split())[:200]
    parent = project.themes.filter(pk=request.POST.get("parent") or 0).first()
    if not name:
        messages.error(request, "A theme needs a name.")
    elif project.themes.filter(name__iexact=name).exists():
        messages.error(request, f"The project already has a theme “{name}”.")
    else:
        services.create_theme(project, name, request.user, parent=parent)
    return redirect("codebook", code=project.code)


@require_http_methods(["GET", "POST"])
def theme_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    theme = _lead_theme(request, pk)
    # The form validates into a copy: `theme` keeps the old values, which the
    # edit and move functions compare against to record before and after.
    form = ThemeForm(request.POST or None, instance=Theme.objects.get(pk=theme.pk))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        codebook.edit_theme(theme, request.user, **{k: data[k] for k in codebook.EDITABLE})
        codebook.move_theme(theme, data["parent"], request.user, data["position"])
        theme.questions.set(data["questions"])
        messages.success(request, f"Saved “{theme.name}”.")
        return _back(theme)
    ctx = {"theme": theme, "form": form, "project": theme.project}
    return render(
        request,
        partial_for(request, "coding/theme_edit.html", "form"),
        ctx,
        status=400 if form.errors else 200,
    )


@require_POST
def theme_archive(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    theme = _lead_theme(request, pk)
    codebook.set_archived(theme, request.user, request.POST.get("archived", "1") == "1")
    return _back(theme)


@require_POST
def theme_merge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    source = _lead_theme(request, pk)
    target = get_object_or_404(source.project.themes, pk=request.POST.get("into") or 0)
    try:
        codebook.merge(source, target, request.user)
    except CodebookError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"Merged “{source.name}” into “{target.name}”.")
    return _back(source)


@require_POST
def merge_undo(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    event, _ = get_in_project(request, Event.objects.all(), "project", EDITORS, pk=pk)
    try:
        codebook.undo_merge(event, request.user)
    except CodebookError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, "The merge is undone.")
    return redirect("codebook", code=event.project.code)


def _history(request, events, title, project) -> HttpResponse:
    events = events.select_related("user", "theme", "answer__respondent", "question")[:500]
    return render(
        request, "coding/history.html", {"events": events, "title": title, "project": project}
    )


@require_GET
def theme_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    theme = _lead_theme(request, pk)
    events = Event.objects.filter(
        Q(theme=theme) | Q(before__source=theme.pk), project=theme.project
    )
    return _history(request, events, f"History of “{theme.name}”", theme.project)


@require_GET
def answer_history(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    answer, _ = get_answer(request, pk, roles=EDITORS)
    events = Event.objects.filter(answer=answer)
    title = f"History of {answer.respondent.export_id}'s answer to {answer.question.export_id}"
    return _history(request, events, title, answer.question.poll.project)


# Exchange ----------------------------------------------------------------------

CODEBOOK_UPLOAD_LIMIT = 10 * 1024 * 1024


def _slug(project) -> str:
    return slug(project.name, "project")


@require_GET
def codebook_csv(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, _ = get_project(request, code)
    return attachment(codebook_io.write_csv(project), f"{_slug(project)}-codebook.csv")


@require_GET
def codebook_qdc(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, _ = get_project(request, code)
    if not project.themes.active().exists():  # REFI-QDA requires at least one code
        messages.error(request, "The codebook has no themes to export yet.")
        return redirect("codebook", code=project.code)
    return attachment(refi.write_qdc(project), f"{_slug(project)}.qdc", "application/xml")


@require_GET
def project_qdpx(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, role = get_project(request, code)
    if role == Membership.Role.CODER and assignments.hidden_question_ids(project):
        # The file holds every coder's codings; a blind round must not leak them.
        messages.error(
            request, "The whole project can be downloaded once blind rounds are revealed."
        )
        return redirect("codebook", code=project.code)
    return attachment(
        refi_export.write_qdpx(project, request.user), f"{_slug(project)}.qdpx", "application/zip"
    )


@require_POST
def codebook_import(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    """Merge a CSV or REFI-QDA .qdc codebook into the project by name."""
    project, _ = get_project(request, code, roles=EDITORS)
    upload = request.FILES.get("file")
    if upload is None or upload.size > CODEBOOK_UPLOAD_LIMIT:
        messages.error(request, "Choose a codebook file of at most 10 MB.")
        return redirect("codebook", code=project.code)
    data, name = upload.read(), upload.name
    try:
        if name.lower().endswith(".qdc"):
            report = refi.import_qdc(project, data, name, request.user)
        else:
            report = codebook_io.import_csv(project, data, name, request.user)
    except ImportProblem as e:
        messages.error(request, f"Nothing was imported. {e}")
    else:
        messages.success(request, _summary(report))
        for conflict in report.conflicts:
            messages.warning(request, conflict)
    return redirect("codebook", code=project.code)


def _summary(report) -> str:
    return (
        f"Codebook merged: {len(report.created)} created, {len(report.updated)} completed, "
        f"{len(report.unchanged)} unchanged, {len(report.conflicts)} conflict"
        f"{'' if len(report.conflicts) == 1 else 's'}."
    )
