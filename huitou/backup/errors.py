"""Why a backup or a restore is refused. Tests import these; the commands print them."""

from typing import Any

from django.utils.translation import gettext_lazy as _

PG_TOOL_MISSING = _(
    "%(tool)s was not found on the PATH. Backing up and restoring a PostgreSQL database needs the "
    "PostgreSQL client tools of the server's version (%(server)s): install them (Debian/Ubuntu: "
    "apt-get install postgresql-client) or put their folder on the PATH."
)
PG_VERSION_MISMATCH = _(
    "%(tool)s is version %(tool_version)s but the PostgreSQL server is version %(server)s. Use the "
    "client tools of the server's major version (for example /usr/lib/postgresql/%(server)s/bin on the PATH)."
)
PG_TOOL_FAILED = _("%(tool)s failed (exit status %(status)s): %(error)s")
ENGINE_UNSUPPORTED = _("Backups support SQLite and PostgreSQL databases, not %(engine)s.")
ARCHIVE_UNREADABLE = _("%(path)s is not a Huitou backup: %(reason)s")
ARCHIVE_NEWER = _("%(path)s was written by a newer Huitou (backup format %(format)s); upgrade Huitou to restore it.")
ENGINE_DIFFERS = _(
    "This backup holds a %(archive)s database but Huitou is set up for %(current)s. Restore it into an "
    "installation with the same kind of database (DATABASE_URL set for PostgreSQL, unset for SQLite)."
)
CHECKSUM_DIFFERS = _("The database in %(path)s is damaged: its checksum differs from the manifest's.")
TARGET_NOT_EMPTY = _(
    "The database already holds data (%(rows)s rows, for example in %(table)s). A restore replaces "
    "everything in it: back it up first, then run the restore again with --force."
)
MEDIA_NOT_EMPTY = _(
    "The uploaded files folder %(path)s is not empty. A restore replaces it: move it away, or run "
    "the restore again with --force."
)
FIGURES_DIFFER = _(
    "The restored database does not hold the numbers the backup recorded: %(keys)s. "
    "Do not use it; keep the backup and report the problem."
)
OUTPUT_EXISTS = _("%(path)s already exists; choose another file name.")
KEEP_INVALID = _("HUITOU_BACKUP_KEEP must be at least 1, got %(keep)s.")
NOTHING_TO_BACK_UP = _(
    "The database %(name)s has no Huitou tables: check HUITOU_DATA_DIR or DATABASE_URL, or run huitou migrate."
)
MIGRATIONS_UNKNOWN = _(
    "This backup was made by a newer Huitou (it holds the migrations %(names)s, which this version does "
    "not have); upgrade Huitou to restore it."
)


class BackupError(Exception):
    """A refusal with one of the messages above; the text is in the language active when shown."""

    def __init__(self, message: Any, **params: Any) -> None:
        super().__init__(message)
        self.message = message
        self.params = params

    def __str__(self) -> str:
        return str(self.message) % self.params if self.params else str(self.message)
