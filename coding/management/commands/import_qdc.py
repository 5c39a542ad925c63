from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.codings_import import read_bytes
from coding.management.lookup import project_named, user_named
from coding.refi import import_qdc, merge_summary
from polls.importers.types import ImportProblem


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
        project = project_named(options["project"])
        user = user_named(options["user"])
        path = Path(options["file"])
        try:
            report = import_qdc(project, read_bytes(path), path.name, user)
        except ImportProblem as e:
            raise CommandError(str(e)) from e
        self.stdout.write(merge_summary(path.name, project, report))
