from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from polls.backups import BackupError, backup


class Command(BaseCommand):
    help = "Write a consistent backup of the live database (SQLite online backup, or pg_dump)."

    def add_arguments(self, parser):
        parser.add_argument("--out", required=True, help="The backup file to write.")

    def handle(self, *args, **options) -> None:
        out = Path(options["out"])
        if out.exists():
            raise CommandError(f"--out: {out} exists; choose a new file")
        try:
            backup(out)
        except (BackupError, OSError) as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"Backed up the database to {out} ({out.stat().st_size:,} bytes)")
