"""Writes of imports: see ``jobs`` (the job from upload to report) and ``engine`` (a batch of rows:
``plan``, ``newfiles``, ``updates``, ``orders``, written through ``bulk``)."""

from huitou.imports.services.errorsheet import error_workbook
from huitou.imports.services.jobs import (
    import_check,
    import_check_request,
    import_check_run,
    import_configure,
    import_is_stale,
    import_resume,
    import_run,
    import_start,
    import_upload,
)

__all__ = [
    "error_workbook",
    "import_check",
    "import_check_request",
    "import_check_run",
    "import_configure",
    "import_is_stale",
    "import_resume",
    "import_run",
    "import_start",
    "import_upload",
]
