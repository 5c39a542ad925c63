from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from polls import import_drafts, imports
from polls.access import EDITORS, get_pending_import, get_poll, get_project
from polls.forms import UploadForm
from polls.htmx import HtmxHttpRequest, partial_for
from polls.importers.types import ImportProblem
from polls.models import PendingImport, Project
from polls.summaries import summarise_poll


@require_GET
def home(request: HtmxHttpRequest) -> HttpResponse:
    projects = (
        Project.objects.for_user(request.user)
        .annotate(poll_count=Count("polls", distinct=True))
        .order_by("name")
    )
    return render(request, "polls/home.html", {"projects": projects})


@require_GET
def project_detail(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, role = get_project(request, code)
    polls = project.polls.annotate(respondent_count=Count("respondents")).order_by(
        "opened", "title"
    )
    ctx = {
        "project": project,
        "role": role,
        "polls": polls,
        "can_import": role in EDITORS,
        "members": project.memberships.select_related("user").order_by("role", "user__username"),
    }
    return render(request, "polls/project_detail.html", ctx)


@require_GET
def poll_detail(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    poll, role = get_poll(request, code)
    summaries = summarise_poll(poll)
    ctx = {"poll": poll, "project": poll.project, "role": role, "summaries": summaries}
    ctx["is_lead"] = role in EDITORS
    ctx["total"] = summaries[0].total if summaries else poll.respondents.count()
    return render(request, "polls/poll_detail.html", ctx)


@require_http_methods(["GET", "POST"])
def import_upload(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, _ = get_project(request, code, roles=EDITORS)
    form = UploadForm(request.POST or None, request.FILES or None)
    problem = None
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        pending = PendingImport(
            project=project,
            created_by=request.user,
            filename=upload.name,
            options=form.pending_options(),
        )
        imports.release_memory_after_response()
        try:
            imports.stage(pending, upload)  # refuses unreadable files on the upload page
        except ImportProblem as e:
            problem = e
        else:
            import_drafts.discard(PendingImport.objects.stale())
            return redirect("import-preview", code=pending.code)
    ctx = {"project": project, "form": form, "problem": problem}
    return render(request, "polls/import_upload.html", ctx, status=400 if problem else 200)


@require_http_methods(["GET", "POST"])
def import_preview(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    """Show what was detected; a POST applies the researcher's corrections."""
    pending = get_pending_import(request, code)
    if request.method == "POST":
        _apply_corrections(request, pending)
        pending.save(update_fields=["options"])
        imports.release_memory_after_response()  # the file is read again for the preview
    ctx = {"preview": imports.preview(pending), "project": pending.project, "pending": pending}
    return render(request, partial_for(request, "polls/import_preview.html", "questions"), ctx)


def _apply_corrections(request: HtmxHttpRequest, pending: PendingImport) -> None:
    shown = imports.current_specs(pending)  # as last worked out: no need to read the file
    pending.options["schema"] = imports.schema_from_form(request.POST, shown)


@require_POST
def import_confirm(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    pending = get_pending_import(request, code)
    _apply_corrections(request, pending)
    imports.release_memory_after_response()
    try:
        result = imports.confirm(pending, request.user)
    except ImportProblem as e:
        pending.save(update_fields=["options"])
        messages.error(request, f"Nothing was imported. {e}")
        return redirect("import-preview", code=pending.code)
    messages.success(
        request,
        f"Imported {result.respondents} respondents and {result.questions} questions"
        + (
            f" ({result.skipped_previews} preview or test responses skipped)."
            if result.skipped_previews
            else "."
        ),
    )
    return redirect("poll-detail", code=result.poll.code)


@require_POST
def import_cancel(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    pending = get_pending_import(request, code)
    project_code = pending.project.code
    import_drafts.discard(PendingImport.objects.filter(pk=pending.pk))
    messages.info(request, "The upload was discarded; nothing was imported.")
    return redirect("project-detail", code=project_code)
