"""`wastelink import-registry FILE.csv`: upsert establishments; report each bad row with its line number."""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from wastelink.accounts.access import SystemActor
from wastelink.registry.services.imports import COLUMNS, import_registry
from wastelink.web.management.dbcheck import require_database


class Command(BaseCommand):
    help = "Upsert establishments from a CSV export. Columns: " + ", ".join(COLUMNS)

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file (UTF-8, header row)")

    def handle(self, *args, file, **options):
        require_database()
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        try:
            text = path.read_text(encoding="utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CommandError(f"{file}: not UTF-8 text ({exc})") from exc

        def progress(done: int, total: int) -> None:
            if sys.stderr.isatty() or done == total:
                width = 30
                filled = int(width * done / total)
                sys.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} rows")
                if done == total:
                    sys.stderr.write("\n")

        report = import_registry(actor=SystemActor("import-registry"), text=text, progress=progress)
        if report.header_error:
            raise CommandError(f"{file}: {report.header_error}")
        for row in report.errors:
            self.stderr.write(
                f"line {row.line}: {row.registration_no or '(no registration_no)'}: {row.reason}"
            )
        self.stdout.write(
            f"created {report.count('created')}, updated {report.count('updated')}, "
            f"unchanged {report.count('unchanged')}, rejected {len(report.errors)}"
        )
        if report.errors:
            sys.exit(1)
