"""The members page: everyone in a project sees the team; leads change it."""

from __future__ import annotations

from uuid import UUID

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_POST

from coding import members
from polls.access import EDITORS, get_in_project, get_project
from polls.htmx import HtmxHttpRequest
from polls.models import Membership

PAGE = "coding/members.html"


def _render(request, project, role, form=None, status=200) -> HttpResponse:
    ctx = {
        "project": project,
        "can_edit": role in EDITORS,
        "members": project.memberships.select_related("user").order_by("role", "user__username"),
        "roles": Membership.Role.choices,
        "form": form or members.MemberForm(),
    }
    return render(request, PAGE, ctx, status=status)


@require_GET
def members_page(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, role = get_project(request, code)
    return _render(request, project, role)


@require_POST
def member_add(request: HtmxHttpRequest, code: UUID) -> HttpResponse:
    project, role = get_project(request, code, roles=EDITORS)
    form = members.MemberForm(request.POST)
    if not form.is_valid():
        return _render(request, project, role, form, status=400)
    data = form.cleaned_data
    try:
        members.add_member(project, request.user, data["username"], data["role"], data["password"])
    except members.MemberError as e:
        form.add_error("username", str(e))
        return _render(request, project, role, form, status=400)
    messages.success(request, f"{data['username']} joined {project.name} as {data['role']}.")
    return redirect("members", code=project.code)


def _membership(request, pk: int) -> Membership:
    memberships = Membership.objects.select_related("user")
    return get_in_project(request, memberships, "project", EDITORS, pk=pk)[0]


@require_POST
def member_role(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    role = request.POST.get("role", "")
    try:
        if role not in Membership.Role.values:
            raise members.MemberError(f"{role!r} is not a role.")
        members.set_role(membership, role, request.user)
    except members.MemberError as e:
        messages.error(request, str(e))
    return redirect("members", code=membership.project.code)


@require_POST
def member_remove(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    membership = _membership(request, pk)
    try:
        members.remove_member(membership, request.user)
    except members.MemberError as e:
        messages.error(request, str(e))
    else:
        messages.success(request, f"{membership.user.get_username()} left {membership.project}.")
    if membership.user == request.user and membership.pk is None:
        return redirect("home")
    return redirect("members", code=membership.project.code)
