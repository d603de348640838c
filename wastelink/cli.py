"""The `wastelink` command: every operation is a Django management command, named with hyphens here.

wastelink serve | demo load | demo accounts --json | token create USER | import-registry FILE | audit verify
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str] | None = None) -> None:
    argv = list(sys.argv if argv is None else argv)
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `wastelink demo accounts | head` ends quietly
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "wastelink.settings")
    if len(argv) > 1 and not argv[1].startswith("-"):
        argv[1] = argv[1].replace("-", "_")
    argv[0] = "wastelink"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":
    main()
