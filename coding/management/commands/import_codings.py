from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.codings_import import CodingsLookupError, find_question, import_codings, read_bytes
from polls.importers.types import ImportProblem


class Command(BaseCommand):
    help = (
        "Import one coder's codings of a question from a CSV, wide (ResponseId, then one "
        "column per theme) or long (response_id,theme)."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--project", required=True)
        parser.add_argument("--poll", required=True, help="The poll's title.")
        parser.add_argument("--question", required=True, help="The question id, e.g. Q4.")
        parser.add_argument(
            "--coder", required=True, help="Username; the account is created if it is new."
        )
        parser.add_argument(
            "--create-themes", action="store_true", help="Add themes the codebook lacks."
        )

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        try:
            question = find_question(options["project"], options["poll"], options["question"])
            result = import_codings(
                question,
                read_bytes(path),
                path.name,
                options["coder"],
                create_themes=options["create_themes"],
            )
        except (ImportProblem, CodingsLookupError) as e:
            raise CommandError(str(e)) from e
        self.stdout.write(result.summary(path.name))
