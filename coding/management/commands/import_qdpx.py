from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.codings_import import read_bytes
from coding.management.lookup import user_named
from coding.refi_import import import_qdpx
from polls.importers.types import ImportProblem


class Command(BaseCommand):
    help = (
        "Import a REFI-QDA project (.qdpx) as a new project led by --user: Verbatim's own "
        "exports come back as they were; other tools' sources become one free-text question."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--project", required=True, help="Name of the new project.")
        parser.add_argument("--user", required=True, help="Username of its lead.")

    def handle(self, *args, **options) -> None:
        user = user_named(options["user"])
        path = Path(options["file"])
        try:
            result = import_qdpx(read_bytes(path), path.name, options["project"], user)
        except ImportProblem as e:
            raise CommandError(str(e)) from e
        self.stdout.write(result.summary(path.name))
