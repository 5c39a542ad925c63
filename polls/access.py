"""Who may see and change what: every view starts with one of these.

Objects of projects the user is not a member of are reported as missing (404),
so ids from another project reveal nothing; members whose role does not allow
the action get 403.
"""

from __future__ import annotations

from typing import NamedTuple
from uuid import UUID

from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import Http404
from django.shortcuts import get_object_or_404

from polls.models import Answer, Membership, PendingImport, Poll, Project, Question

EDITORS = (Membership.Role.LEAD,)
CODERS = (Membership.Role.LEAD, Membership.Role.CODER)


def _check(role: str, roles) -> None:
    if roles is not None and role not in roles:
        raise PermissionDenied


def get_project(request, code: UUID, roles=None) -> tuple[Project, str]:
    return get_in_project(request, Project.objects.all(), "", roles, code=code)


def get_in_project(request, queryset, project: str, roles=None, **lookup):
    """(object, role): an object of a project the user belongs to, checked against `roles`.

    `project` is the path from the object to its project ("project",
    "question__poll__project"; "" for a project). Objects of other projects are
    404, like missing ones.
    """
    memberships = f"{project}__memberships" if project else "memberships"
    # The role comes with the object: annotate() after filter() reads the same
    # membership row the filter joined, so the check costs no second query.
    members_only = queryset.filter(**{f"{memberships}__user": request.user}).annotate(
        member_role=F(f"{memberships}__role")
    )
    if project:
        members_only = members_only.select_related(project)
    found = get_object_or_404(members_only, **lookup)
    _check(found.member_role, roles)
    return found, found.member_role


def get_poll(request, code: UUID, roles=None) -> tuple[Poll, str]:
    return get_in_project(request, Poll.objects.all(), "project", roles, code=code)


def get_question(request, pk: int, roles=None) -> tuple[Question, str]:
    return get_in_project(request, Question.objects.all(), "poll__project", roles, pk=pk)


def get_answer(request, pk: int, roles=None) -> tuple[Answer, str]:
    answers = Answer.objects.select_related("respondent")
    return get_in_project(request, answers, "question__poll__project", roles, pk=pk)


class AnswerRef(NamedTuple):
    """An answer as applying or removing a theme needs it: its ids."""

    pk: int
    question_id: int
    project_id: int


def get_answer_ref(request, pk: int, roles=None) -> tuple[AnswerRef, str]:
    """get_answer for the workbench's most frequent requests: ids only, in one plain query."""
    found = Answer.objects.ref_for_member(pk, request.user.pk)
    if found is None:
        raise Http404
    *ids, role = found
    _check(role, roles)
    return AnswerRef(*ids), role


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
