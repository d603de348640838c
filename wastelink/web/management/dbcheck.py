"""A friendly refusal when a command runs against a database that `wastelink setup` has not prepared."""

from django.core.management.base import CommandError
from django.db import connection
from django.db.migrations.executor import MigrationExecutor


def require_database() -> None:
    try:
        executor = MigrationExecutor(connection)
        pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:  # no server, wrong credentials, unreadable file
        raise CommandError(f"cannot reach the database ({exc}); check DATABASE_URL") from exc
    if pending:
        raise CommandError("the database is not set up (or not up to date): run `wastelink setup` first")
