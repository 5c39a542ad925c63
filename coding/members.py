"""A project's team: leads add people, change their role and remove them.

A project always keeps at least one lead, or nobody could manage it again.
Every change is an Event, so the audit trail shows who let whom in.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.db import transaction

from coding.models import Event
from polls.models import Membership, Project


class MemberError(ValueError):
    pass


class MemberForm(forms.Form):
    username = forms.CharField(max_length=150, validators=[UnicodeUsernameValidator()])
    role = forms.ChoiceField(choices=Membership.Role.choices, initial=Membership.Role.CODER)
    password = forms.CharField(
        required=False,
        widget=forms.PasswordInput,
        help_text="Only for a new account; give it to them in person.",
    )

    def clean(self):
        data = super().clean()
        username = data.get("username", "").strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None and not data.get("password"):
            self.add_error("password", f"There is no account {username!r}: set a password for it.")
        elif user is None:
            candidate = get_user_model()(username=username)
            try:
                password_validation.validate_password(data["password"], candidate)
            except forms.ValidationError as e:
                self.add_error("password", e)
        data["user"] = user
        return data


def _log(project: Project, by, before: dict, after: dict) -> None:
    Event.objects.create(
        project=project, user=by, action=Event.Action.MEMBER, before=before, after=after
    )


@transaction.atomic
def add_member(project: Project, by, username: str, role: str, password: str = "") -> Membership:
    """Add an existing account, or create it with the given password."""
    user = get_user_model().objects.filter(username=username).first()
    if user is None:
        user = get_user_model().objects.create_user(username, password=password)
    elif project.memberships.filter(user=user).exists():
        raise MemberError(f"{username} is already a member of {project.name}.")
    membership = Membership.objects.create(project=project, user=user, role=role)
    _log(project, by, {}, {"user": username, "role": role})
    return membership


def _keeps_a_lead(membership: Membership, new_role: str | None) -> None:
    if membership.role != Membership.Role.LEAD or new_role == Membership.Role.LEAD:
        return
    leads = membership.project.memberships.filter(role=Membership.Role.LEAD)
    if not leads.exclude(pk=membership.pk).exists():
        raise MemberError("A project needs at least one lead: make someone else lead first.")


@transaction.atomic
def set_role(membership: Membership, role: str, by) -> bool:
    if membership.role == role:
        return False
    _keeps_a_lead(membership, role)
    before = {"user": membership.user.get_username(), "role": membership.role}
    membership.role = role
    membership.save(update_fields=["role"])
    _log(membership.project, by, before, {**before, "role": role})
    return True


@transaction.atomic
def remove_member(membership: Membership, by) -> None:
    """Their codings stay (reports and agreement still need them); their access goes."""
    _keeps_a_lead(membership, None)
    _log(
        membership.project,
        by,
        {"user": membership.user.get_username(), "role": membership.role},
        {},
    )
    membership.delete()
