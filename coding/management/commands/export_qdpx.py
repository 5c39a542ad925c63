from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding.refi_export import write_qdpx
from polls.models import Project


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
        project = Project.objects.filter(name=options["project"]).first()
        if project is None:
            raise CommandError(f"--project: no project named {options['project']!r}")
        user = None
        if options["user"]:
            User = get_user_model()
            user = User.objects.filter(**{User.USERNAME_FIELD: options["user"]}).first()
            if user is None:
                raise CommandError(f"--user: no user named {options['user']!r}")
        data = write_qdpx(project, user)
        out = Path(options["out"])
        try:
            out.write_bytes(data)
        except OSError as e:
            raise CommandError(f"{out}: cannot write the file ({e.strerror})") from e
        self.stdout.write(f"Wrote {out} ({len(data)} bytes)")
