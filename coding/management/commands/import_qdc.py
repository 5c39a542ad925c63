from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding.codings_import import read_bytes
from coding.refi import import_qdc, merge_summary
from polls.importers.types import ImportProblem
from polls.models import Project


class Command(BaseCommand):
    help = (
        "Merge a REFI-QDA codebook (.qdc) into a project's themes by name, as a CSV "
        "codebook is merged: new themes are created, empty fields filled, conflicts reported."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--project", required=True)
        parser.add_argument("--user", required=True, help="Username recorded as the importer.")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project named {options['project']!r}")
        User = get_user_model()
        user = User.objects.filter(**{User.USERNAME_FIELD: options["user"]}).first()
        if user is None:
            raise CommandError(f"--user: no user named {options['user']!r}")
        path = Path(options["file"])
        try:
            report = import_qdc(project, read_bytes(path), path.name, user)
        except ImportProblem as e:
            raise CommandError(str(e)) from e
        self.stdout.write(merge_summary(path.name, project, report))
