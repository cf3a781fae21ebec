"""The ``huitou`` command: Django's manage.py plus ``serve`` and ``quickstart``.

huitou serve            web server (waitress) and one background worker
huitou quickstart       migrate, load the demo organization once, print logins, serve
huitou demo ...         build demo data (see ``huitou demo --help``)
huitou token create U   print a new API token for user U
huitou <any manage.py command>
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "manage":
        args = args[1:]
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "huitou.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["huitou", *args])
    return 0


if __name__ == "__main__":
    sys.exit(main())
