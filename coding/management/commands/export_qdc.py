from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.refi import write_qdc
from polls.models import Project


class Command(BaseCommand):
    help = "Write the project's active themes as a REFI-QDA codebook (.qdc)."

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--out", required=True, help="The .qdc file to write.")

    def handle(self, *args, **options) -> None:
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project named {options['project']!r}")
        if not project.themes.active().exists():
            raise CommandError(f"project {project.name!r} has no active themes to export")
        data = write_qdc(project)
        out = Path(options["out"])
        try:
            out.write_bytes(data)
        except OSError as e:
            raise CommandError(f"{out}: cannot write the file ({e.strerror})") from e
        self.stdout.write(f"Wrote {project.themes.active().count()} themes to {out}")
