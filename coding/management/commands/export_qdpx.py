from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand

from coding.management.lookup import project_named, user_named, write_output
from coding.refi_export import write_qdpx


class Command(BaseCommand):
    help = (
        "Write the project as a REFI-QDA project (.qdpx): themes, respondents as cases, "
        "answers with text as sources, codings and quotes by coder."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--out", required=True, help="The .qdpx file to write.")
        parser.add_argument(
            "--user", help="Username of the exporting user (default: the project's first lead)."
        )

    def handle(self, *args, **options) -> None:
        project = project_named(options["project"])
        user = user_named(options["user"]) if options["user"] else None
        data = write_qdpx(project, user)
        out = Path(options["out"])
        write_output(out, data)
        self.stdout.write(f"Wrote {out} ({len(data)} bytes)")
