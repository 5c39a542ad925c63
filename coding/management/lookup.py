"""What the management commands share: finding by name, writing the output file.

Each failure is the one-line CommandError the contract asks for.
"""

from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import CommandError

from polls.models import Project


def project_named(name: str) -> Project:
    project = Project.objects.filter(name=name).first()
    if project is None:
        raise CommandError(f"--project: no project named {name!r}")
    return project


def user_named(name: str, option: str = "--user"):
    User = get_user_model()
    user = User.objects.filter(**{User.USERNAME_FIELD: name}).first()
    if user is None:
        raise CommandError(f"{option}: no user named {name!r}")
    return user


def write_output(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as e:
        raise CommandError(f"{path}: cannot write the file ({e.strerror})") from e
