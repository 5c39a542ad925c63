"""Who may see and change what: every view starts with one of these.

Objects of projects the user is not a member of are reported as missing (404),
so ids from another project reveal nothing; members whose role does not allow
the action get 403.
"""

from __future__ import annotations

from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from polls.models import Answer, Membership, PendingImport, Poll, Project, Question

EDITORS = (Membership.Role.LEAD,)
CODERS = (Membership.Role.LEAD, Membership.Role.CODER)


def _check(role: str, roles) -> None:
    if roles is not None and role not in roles:
        raise PermissionDenied


def get_project(request, code: UUID, roles=None) -> tuple[Project, str]:
    project = get_object_or_404(Project.objects.for_user(request.user), code=code)
    role = project.role_of(request.user)
    _check(role, roles)
    return project, role


def get_poll(request, code: UUID, roles=None) -> tuple[Poll, str]:
    poll = get_object_or_404(
        Poll.objects.for_user(request.user).select_related("project"), code=code
    )
    role = poll.project.role_of(request.user)
    _check(role, roles)
    return poll, role


def get_question(request, pk: int, roles=None) -> tuple[Question, str]:
    question = get_object_or_404(
        Question.objects.filter(poll__project__memberships__user=request.user).select_related(
            "poll__project"
        ),
        pk=pk,
    )
    role = question.poll.project.role_of(request.user)
    _check(role, roles)
    return question, role


def get_answer(request, pk: int, roles=None) -> tuple[Answer, str]:
    answer = get_object_or_404(
        Answer.objects.filter(
            question__poll__project__memberships__user=request.user
        ).select_related("question__poll__project", "respondent"),
        pk=pk,
    )
    role = answer.question.poll.project.role_of(request.user)
    _check(role, roles)
    return answer, role


def get_pending_import(request, code: UUID) -> PendingImport:
    """A staged upload: only its uploader, still a lead of its project, may see it."""
    pending = get_object_or_404(
        PendingImport.objects.select_related("project"), code=code, created_by=request.user
    )
    role = pending.project.role_of(request.user)
    if role is None:
        raise Http404
    _check(role, EDITORS)
    return pending
