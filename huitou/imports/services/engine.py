"""Rows matched to the organization's files and written, one batch at a time.

A batch is classified first (``plan``: what each row would do: create,
update, skip as a duplicate, or refuse) and, in a real run, written in the
caller's transaction: new files and cars at once (``newfiles``), edits of
files already there through the services (``updates``), service history
as paid orders (``orders``). The dry run and the real run share the
classification, so the report of the dry run is what the import does.

The number of statements of a batch does not grow with its rows: four
reads to classify, one write per table (new files, links, stage changes,
cars, ownerships, readings, orders, order lines, history), a few for the
order numbers and for files of earlier batches that got a car; only rows
that change a file already there add their services' statements.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from huitou.imports.models import ImportJob, ImportKind
from huitou.imports.services.newfiles import write_new_files
from huitou.imports.services.orders import orders_batch
from huitou.imports.services.plan import BatchResult, RunState, classify_files, count
from huitou.imports.services.rows import Row
from huitou.imports.services.updates import try_updates, update_files
from huitou.tenancy.models import User

__all__ = ["BatchResult", "RunState", "process_batch"]


def process_batch(
    *,
    job: ImportJob,
    rows: Sequence[Row],
    state: RunState,
    by: User,
    write: bool,
    now: dt.datetime,
) -> BatchResult:
    """Classify a batch and, when ``write``, write it (in the caller's transaction)."""
    if job.kind == ImportKind.ORDERS:
        return orders_batch(job, rows, state, by, write, now)
    plans = classify_files(job, rows, state)
    if write:
        write_new_files(job, plans, state, by, now)
        update_files(job, plans, state, by, now)
    else:
        try_updates(job, plans, state, by, now)
    return count(plans)
