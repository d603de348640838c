"""`wastelink audit verify`: walk the hash chain; name the first broken record."""

import sys

from django.core.management.base import BaseCommand

from wastelink.audit.models import AuditRecord
from wastelink.audit.services import verify_chain
from wastelink.web.management.dbcheck import require_database


class Command(BaseCommand):
    help = "Audit trail operations: verify"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, action, **options):
        require_database()
        result = verify_chain()
        if result.ok:
            self.stdout.write(f"audit chain intact: {result.checked} records verified")
            return
        rec = AuditRecord.objects.filter(seq=result.broken_seq).first()
        what = f" ({rec.action} {rec.object_type}:{rec.object_id} at {rec.at.isoformat()})" if rec else ""
        self.stderr.write(f"audit chain BROKEN at record #{result.broken_seq}{what}: {result.reason}; "
                          f"{result.checked} records before it are intact")  # fmt: skip
        sys.exit(1)
