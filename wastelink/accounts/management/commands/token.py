"""`wastelink token create USERNAME [--name N] [--scope S ...] [--days D]` prints a new API token."""

from django.core.management.base import BaseCommand, CommandError

from wastelink.accounts.access import SystemActor
from wastelink.accounts.models import ApiToken, User
from wastelink.accounts.services import create_token, revoke_token
from wastelink.core.findings import DomainError
from wastelink.web.management.dbcheck import require_database


class Command(BaseCommand):
    help = "API tokens: create USERNAME | list USERNAME | revoke TOKEN_ID"

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create", "list", "revoke"])
        parser.add_argument("target", help="username (create, list) or token id (revoke)")
        parser.add_argument("--name", default="cli")
        parser.add_argument(
            "--scope", action="append", dest="scopes", choices=[s.value for s in ApiToken.Scope]
        )
        parser.add_argument("--days", type=int, default=None)

    def handle(self, *args, action, target, name, scopes, days, **options):
        require_database()
        actor = SystemActor("cli")
        try:
            if action == "revoke":
                if not target.isdigit():
                    raise CommandError("revoke takes a token id")
                token = revoke_token(actor=actor, token_id=int(target))
                self.stdout.write(f"revoked token {token.id} ({token.prefix})")
                return
            user = User.objects.filter(username=target).first()
            if user is None:
                raise CommandError(f"no user named {target!r}")
            if action == "list":
                for t in ApiToken.objects.filter(user=user):
                    self.stdout.write(
                        f"{t.id}\t{t.prefix}\t{t.name}\t{','.join(t.scopes)}\t{'active' if t.active else 'inactive'}"
                    )
                return
            issued = create_token(actor=actor, user=user, name=name, scopes=scopes, days=days)
            self.stdout.write(issued.plaintext)
        except DomainError as exc:
            raise CommandError(str(exc)) from exc
