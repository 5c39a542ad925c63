"""The audit trail: who changed what and when, for leads, on screen and as CSV.

Every change to codings, quotes, the codebook, memberships, assignments and
settlements is an Event (coding.models); this page lists them newest first,
filtered by person, kind of change and date.
"""

from __future__ import annotations

import datetime
from contextlib import suppress
from uuid import UUID

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from coding.models import Event
from coding.spreadsheets import csv_text
from polls.access import EDITORS, get_project
from polls.downloads import attachment, slug
from polls.htmx import HtmxHttpRequest, query_without_page

PAGE = "coding/audit.html"
COLUMNS = ["when", "who", "action", "question", "answer", "theme", "before", "after", "undone"]


def _events(project, query):
    events = Event.objects.filter(project=project).select_related(
        "user", "theme", "question", "answer__respondent"
    )
    if query.get("user"):
        events = events.filter(user__username=query["user"])
    if query.get("action") in Event.Action.values:
        events = events.filter(action=query["action"])
    for bound, lookup in (("since", "created_at__date__gte"), ("until", "created_at__date__lte")):
        with suppress(ValueError):  # no date, or not one: no bound
            events = events.filter(**{lookup: datetime.date.fromisoformat(query.get(bound, ""))})
    return events.order_by("-created_at", "-id")


def _row(event: Event) -> list:
    answer = event.answer.respondent.export_id if event.answer else ""
    return [
        event.created_at.isoformat(timespec="seconds"),
        event.user.get_username(),
        event.get_action_display(),
        event.question.export_id if event.question else "",
        answer,
        event.theme.name if event.theme else "",
        event.before or "",
        event.after or "",
        event.undone_at.isoformat(timespec="seconds") if event.undone_at else "",
    ]


@require_GET
def audit(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, _ = get_project(request, code, roles=EDITORS)
    events = _events(project, request.GET)
    if request.GET.get("format") == "csv":
        rows = (_row(e) for e in events.iterator())
        return attachment(csv_text(COLUMNS, rows), f"{slug(project.name)}-audit.csv")
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    ctx = {
        "project": project,
        "page": page,
        "rows": [_row(e) for e in page.object_list],
        "columns": COLUMNS,
        "actions": Event.Action.choices,
        "people": project.memberships.select_related("user").order_by("user__username"),
        "query": query_without_page(request.GET),
        "filters": request.GET,
    }
    return render(request, PAGE, ctx)
