from __future__ import annotations

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from coding.agreement_data import HEADER, agreement_rows, finished_counts
from coding.codings_import import CodingsLookupError, find_question
from coding.spreadsheets import csv_text


class Command(BaseCommand):
    help = (
        "Agreement of two coders on one question, per theme (percent agreement, Cohen's kappa, "
        "Krippendorff's alpha, Gwet's AC1) and overall (alpha with the MASI distance), as CSV."
    )

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--poll", required=True, help="The poll's title.")
        parser.add_argument("--question", required=True, help="The question id, e.g. Q4.")
        parser.add_argument("--coders", required=True, help="Two usernames: A,B.")
        parser.add_argument("--out", help="CSV file to write; without it the CSV goes to stdout.")

    def handle(self, *args, **options) -> None:
        try:
            question = find_question(options["project"], options["poll"], options["question"])
        except CodingsLookupError as e:
            raise CommandError(str(e)) from e
        coder_a, coder_b = _coders(options["coders"])
        finished = finished_counts(question, [coder_a, coder_b])
        for coder in (coder_a, coder_b):
            if not finished[coder.pk]:
                raise CommandError(
                    f"--coders: {coder.get_username()!r} has coded no answers of "
                    f"{question.export_id}"
                )
        rows = agreement_rows(question, coder_a, coder_b)
        if rows[-1][1] == 0:
            raise CommandError(
                f"--coders: {coder_a.get_username()!r} and {coder_b.get_username()!r} have "
                f"coded no answers of {question.export_id} in common"
            )
        text = csv_text(HEADER, rows)
        if options["out"] is None:
            self.stdout.write(text, ending="")
            return
        out = Path(options["out"])
        try:
            with out.open("w", encoding="utf-8", newline="") as f:
                f.write(text)
        except OSError as e:
            raise CommandError(f"{out}: cannot write the file ({e.strerror})") from e
        self.stdout.write(
            f"Wrote agreement of {coder_a.get_username()} and {coder_b.get_username()} on "
            f"{question.export_id} ({rows[-1][1]} answers, {len(rows) - 1} themes) to {out}"
        )


def _coders(value: str):
    names = [name.strip() for name in value.split(",")]
    if len(names) != 2 or not all(names):
        raise CommandError(f"--coders: give two usernames separated by a comma, not {value!r}")
    if names[0] == names[1]:
        raise CommandError(f"--coders: give two different coders, not {names[0]!r} twice")
    model = get_user_model()
    users = model.objects.filter(**{f"{model.USERNAME_FIELD}__in": names})
    found = {user.get_username(): user for user in users}
    for name in names:
        if name not in found:
            raise CommandError(f"--coders: no user named {name!r}")
    return found[names[0]], found[names[1]]
