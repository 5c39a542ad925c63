from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.management.lookup import project_named, write_output
from coding.refi import write_qdc


class Command(BaseCommand):
    help = "Write the project's active themes as a REFI-QDA codebook (.qdc)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--out", required=True, help="The .qdc file to write.")

    def handle(self, *args, **options) -> None:
        project = project_named(options["project"])
        if not project.themes.active().exists():
            raise CommandError(f"project {project.name!r} has no active themes to export")
        data = write_qdc(project)
        out = Path(options["out"])
        write_output(out, data)
        self.stdout.write(f"Wrote {project.themes.active().count()} themes to {out}")
