"""`wastelink serve`: the platform under uvicorn (ASGI), after making sure the database is ready."""

import uvicorn
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the platform (web, API) on HOST:PORT."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--no-setup", action="store_true", help="skip migrations and reference data")

    def handle(self, *args, host, port, no_setup, **options):
        if not no_setup:
            call_command("setup")
        if not finders.find("vendor/leaflet/leaflet.js"):
            self.stderr.write(
                "warning: front-end libraries are missing; run 'make vendor' (maps will not show)"
            )
        db = settings.DATABASES["default"]
        self.stdout.write(
            f"wastelink on http://{host}:{port}/  (database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']})"
        )
        uvicorn.run("wastelink.asgi:application", host=host, port=port, log_level="info", lifespan="off")
