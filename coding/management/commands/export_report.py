from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from coding.reports import Source, report_tables
from coding.spreadsheets import write_csv, write_xlsx
from polls.models import Poll


class Command(BaseCommand):
    help = "Write a poll's report tables: summary.csv and <QID>.csv per question (or report.xlsx)."
    # Reading tables needs no system check; skipping them takes a third of a second
    # off every export a script runs.
    requires_system_checks = []

    def add_arguments(self, parser):
        parser.add_argument("--project", required=True)
        parser.add_argument("--poll", required=True, help="The poll's title.")
        parser.add_argument("--out", required=True, help="Directory to write into.")
        parser.add_argument("--source", default="consensus", help="consensus or coder:USERNAME")
        parser.add_argument("--format", choices=["csv", "xlsx"], default="csv")

    def handle(self, *args, **options) -> None:
        poll = Poll.objects.filter(project__name=options["project"], title=options["poll"]).first()
        if poll is None:
            raise CommandError(
                f"no poll titled {options['poll']!r} in project {options['project']!r}"
            )
        try:
            source = Source.parse(options["source"])
        except ValueError as e:
            raise CommandError(f"--source: {e}") from e
        out = Path(options["out"])
        out.mkdir(parents=True, exist_ok=True)
        tables = report_tables(poll, source)
        if options["format"] == "xlsx":
            write_xlsx(out / "report.xlsx", tables)
            written = 1
        else:
            for name, header, rows in tables:
                write_csv(out / f"{name}.csv", header, rows)
            written = len(tables)
        self.stdout.write(f"Wrote {written} file(s) to {out}")
