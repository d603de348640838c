from django.core.management import call_command
from django.core.management.base import BaseCommand

from wastelink.registry.services.reference import load_reference_data


class Command(BaseCommand):
    help = (
        "Create or migrate the database, compile the translations and load the reference data (idempotent)."
    )

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("compile_catalogues", verbosity=0)
        counts = load_reference_data()
        added = ", ".join(f"{k} +{v}" for k, v in counts.items() if v) or "nothing new"
        self.stdout.write(f"database ready; reference data: {added}")
