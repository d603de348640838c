"""`wastelink demo load` and `wastelink demo accounts [--json]`."""

import json as jsonlib

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from wastelink.demo.load import demo_accounts, load_demo
from wastelink.web.management.dbcheck import require_database


class Command(BaseCommand):
    help = "Demo data: load (idempotent, deterministic from the seed) | accounts [--json]"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["load", "accounts"])
        parser.add_argument("--json", action="store_true", help="accounts as JSON")
        parser.add_argument("--seed", type=int, default=None)

    def handle(self, *args, action, json: bool, seed, **options):
        if action == "load":
            call_command("setup")
            loaded, accounts = load_demo(seed if seed is not None else settings.WASTELINK["DEMO_SEED"])
            self.stdout.write("demo data loaded" if loaded else "demo data already present: reused")
        else:
            require_database()
            accounts = demo_accounts()
        if json:
            self.stdout.write(_json([a.__dict__ for a in accounts]))
            return
        self.stdout.write(f"{'username':<18} {'password':<24} {'role':<24} organisation")
        for a in accounts:
            self.stdout.write(f"{a.username:<18} {a.password:<24} {a.role:<24} {a.organisation}")


def _json(value) -> str:
    return jsonlib.dumps(value, ensure_ascii=False, indent=2)
