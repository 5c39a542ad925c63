"""The test cast: alice leads the project, bob codes, vera views, charlie is an outsider."""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.core.management import call_command

from coding import suggestions
from polls.management.commands.demo import ACCOUNTS
from polls.models import Membership, Project
from tests.factories import make_poll

PASSWORD = "correct-horse-battery"


@pytest.fixture(autouse=True)
def _empty_cache():
    """The cache holds failed-login counts (polls/login.py), the workers their suggestion
    models (coding/suggestions.py): none carries over."""
    cache.clear()
    suggestions.forget()


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    """Passwords are hashed for every test's cast; the production hasher is slow on purpose."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _user(username: str):
    return get_user_model().objects.create_user(username, password=PASSWORD)


@pytest.fixture
def project(db):
    return Project.objects.create(name="Care Review polling")


@pytest.fixture
def alice(project):
    user = _user("alice")
    Membership.objects.create(project=project, user=user, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def bob(project):
    user = _user("bob")
    Membership.objects.create(project=project, user=user, role=Membership.Role.CODER)
    return user


@pytest.fixture
def vera(project):
    user = _user("vera")
    Membership.objects.create(project=project, user=user, role=Membership.Role.VIEWER)
    return user


@pytest.fixture
def charlie(db):
    """A lead of another project."""
    user = _user("charlie")
    other = Project.objects.create(name="Someone else's project")
    Membership.objects.create(project=other, user=user, role=Membership.Role.LEAD)
    return user


@pytest.fixture
def poll(project):
    return make_poll(project)


def login(client, user):
    client.force_login(user)
    return client


@pytest.fixture(scope="module")
def demo_db(django_db_setup, django_db_blocker):
    """The demo loaded once per test module that asks for it, and removed after."""
    with django_db_blocker.unblock():
        call_command("demo", stdout=io.StringIO())
        yield
        Project.objects.all().delete()
        get_user_model().objects.filter(username__in=[u for u, _ in ACCOUNTS]).delete()
