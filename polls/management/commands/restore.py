from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from polls.backups import BackupError, restore


class Command(BaseCommand):
    help = "Replace the database with a backup written by `backup`. Everything since is lost."

    def add_arguments(self, parser):
        parser.add_argument("file", help="A file written by the backup command.")
        parser.add_argument(
            "--yes", action="store_true", help="Confirm: the current data is replaced."
        )

    def handle(self, *args, **options) -> None:
        if not options["yes"]:
            raise CommandError("restore replaces every project, poll and coding: add --yes")
        try:
            restore(Path(options["file"]))
        except (BackupError, OSError) as e:
            raise CommandError(str(e)) from e
        self.stdout.write(f"Restored the database from {options['file']}")
