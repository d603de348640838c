"""`wastelink serve`: the platform (web, API, live stream) and the OsmAnd ingest server, under uvicorn."""

import asyncio

import uvicorn
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Serve the platform on HOST:PORT and the OsmAnd ingest server on HOST:OSMAND_PORT."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--osmand-port", type=int, default=settings.WASTELINK["OSMAND_PORT"],
                            help="port of the OsmAnd ingest server (0 to not start it)")  # fmt: skip
        parser.add_argument("--no-setup", action="store_true", help="skip migrations and reference data")
        parser.add_argument("--demo-fleet", action="store_true",
                            help="drive a simulated fleet on the demo data (make demo): the live map moves, alerts appear")  # fmt: skip

    def handle(self, *args, host, port, osmand_port, no_setup, demo_fleet, **options):
        if not no_setup:
            call_command("setup")
        if not finders.find("vendor/leaflet/leaflet.js"):
            self.stderr.write("warning: front-end libraries are missing; run 'make vendor' (maps will not show)")
        db = settings.DATABASES["default"]
        self.stdout.write(f"wastelink on http://{host}:{port}/  (database: {db['ENGINE'].rsplit('.', 1)[-1]} {db['NAME']})")
        servers = [uvicorn.Server(uvicorn.Config("wastelink.asgi:application", host=host, port=port, lifespan="off",
                                                 log_level="info"))]  # fmt: skip
        if osmand_port:
            self.stdout.write(f"OsmAnd ingest on http://{host}:{osmand_port}/  (also at /osmand on the main port)")
            servers.append(uvicorn.Server(uvicorn.Config("wastelink.tracking.ingest_asgi:application", host=host,
                                                         port=osmand_port, lifespan="off", log_level="warning")))  # fmt: skip

        from wastelink.detection.services.engine import AlertEngine, rule_settings
        from wastelink.detection.services.worker import DetectionWorker

        try:
            rules = rule_settings()
        except ValueError as exc:
            raise CommandError(f"WASTELINK_DETECTION: {exc}") from exc
        DetectionWorker(AlertEngine(rules)).start()  # the rules run beside ingest, off the request threads
        self.stdout.write("detection running (rules: docs/detection.md)")
        if demo_fleet:
            from wastelink.simulation.fleet import DemoFleet

            DemoFleet().start()
            self.stdout.write("demo fleet driving: simulated trucks (manifests SIM-F…) with incidents among clean trips")

        async def run_all():
            await asyncio.gather(*(s.serve() for s in servers))

        try:  # uvloop where it is installed (not on Windows): a faster event loop for the many small requests
            import uvloop

            factory = uvloop.new_event_loop
        except ImportError:
            factory = None
        with asyncio.Runner(loop_factory=factory) as runner:
            runner.run(run_all())
