"""Compile the gettext catalogues (.po → .mo) with Babel, so no system gettext tools are needed."""

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Compile the platform's translation catalogues."

    def handle(self, *args, **options):
        for locale_dir in settings.LOCALE_PATHS:
            for po_path in Path(locale_dir).glob("*/LC_MESSAGES/*.po"):
                mo_path = po_path.with_suffix(".mo")
                if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
                    continue
                with po_path.open("rb") as fh:
                    catalog = read_po(fh)
                with mo_path.open("wb") as fh:
                    write_mo(fh, catalog)
                if options["verbosity"]:
                    self.stdout.write(f"compiled {po_path}")
