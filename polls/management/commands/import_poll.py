from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from polls import importers
from polls.importers.types import ImportProblem
from polls.imports import import_file
from polls.loading import PollFields
from polls.models import Project

FORMATS = ["auto", "qualtrics", "surveymonkey", "forms", "csv", "xlsx"]


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as e:
        raise CommandError(f"{value!r} is not a date in YYYY-MM-DD form") from e


def _read(path: Path) -> bytes:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise CommandError(f"{path}: cannot read the file ({e.strerror})") from e
    if size > settings.VERBATIM_MAX_UPLOAD_BYTES:
        raise CommandError(
            f"{path}: {size} bytes is over the limit of {settings.VERBATIM_MAX_UPLOAD_BYTES} "
            "(set VERBATIM_MAX_UPLOAD_MB)"
        )
    return path.read_bytes()


class Command(BaseCommand):
    help = "Import a survey export (Qualtrics, SurveyMonkey, Forms, CSV or XLSX) as a poll."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument("--project", required=True, help="Created if it does not exist.")
        parser.add_argument("--title", required=True)
        parser.add_argument("--format", choices=FORMATS, default="auto")
        parser.add_argument("--population", default="")
        parser.add_argument("--opened", type=_date)
        parser.add_argument("--closed", type=_date)
        parser.add_argument("--invited", type=int)
        parser.add_argument("--schema", help="JSON file correcting inferred question kinds.")
        parser.add_argument("--include-previews", action="store_true")
        parser.add_argument("--json", action="store_true", help="Print one JSON line of counts.")

    def handle(self, *args, **options) -> None:
        path = Path(options["file"])
        data = _read(path)
        schema = None
        try:
            if options["schema"]:
                schema_path = Path(options["schema"])
                schema = importers.parse_schema(_read(schema_path), schema_path.name)
            with transaction.atomic():  # a failed import must not leave a new project behind
                project, _ = Project.objects.get_or_create(name=options["project"])
                result = import_file(
                    project,
                    data,
                    path.name,
                    PollFields(
                        title=options["title"],
                        opened=options["opened"],
                        closed=options["closed"],
                        invited=options["invited"],
                        population=options["population"],
                    ),
                    format=options["format"],
                    include_previews=options["include_previews"],
                    schema=schema,
                )
        except ImportProblem as e:
            raise CommandError(str(e)) from e
        if options["json"]:
            self.stdout.write(json.dumps(result.as_dict()))
        else:
            self.stdout.write(
                f"Imported {result.respondents} respondents and {result.questions} questions "
                f"into poll {result.poll.title!r} (skipped {result.skipped_previews} previews)."
            )
