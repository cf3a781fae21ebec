"""Imports (导入): a sheet brought in, its mapping, its report and its progress."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from huitou.customers.models import Customer
from huitou.tenancy.models import Shop, TenantModel


class ImportKind(models.TextChoices):
    CUSTOMERS = "customers", _("Customers with their vehicles")
    PROSPECTS = "prospects", _("Prospects")
    ORDERS = "orders", _("Service history")


class ImportState(models.TextChoices):
    UPLOADED = "uploaded", _("Uploaded: check the columns")
    CHECKED = "checked", _("Dry run done")
    QUEUED = "queued", _("Waiting to run")
    RUNNING = "running", _("Importing")
    DONE = "done", _("Done")
    FAILED = "failed", _("Failed")


class OnDuplicate(models.TextChoices):
    """What a row does when its phone or plate is already in a file of the organization."""

    SKIP = "skip", _("Skip the row")
    UPDATE = "update", _("Update the file with the row's values")
    MERGE = "merge", _("Merge: fill only what the file lacks")


class ImportJob(TenantModel):
    kind = models.CharField(_("sheet kind"), max_length=12, choices=ImportKind.choices)
    state = models.CharField(_("state"), max_length=10, choices=ImportState.choices, default=ImportState.UPLOADED)
    filename = models.CharField(_("file"), max_length=200)
    file_format = models.CharField(max_length=5)
    # Where the uploaded file is kept, relative to the imports folder of the data directory.
    stored_as = models.CharField(max_length=200)
    header_row = models.PositiveIntegerField(default=1)
    columns = models.JSONField(default=list)  # the header's texts
    mapping = models.JSONField(default=dict)  # field -> column index
    on_duplicate = models.CharField(
        _("duplicates"), max_length=6, choices=OnDuplicate.choices, default=OnDuplicate.SKIP
    )
    shop = models.ForeignKey(Shop, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    # The report: of the last dry run until the import runs, then of the import.
    dry_run = models.BooleanField(default=True)
    rows = models.PositiveIntegerField(default=0)
    created = models.PositiveIntegerField(default=0)
    updated = models.PositiveIntegerField(default=0)
    skipped = models.PositiveIntegerField(default=0)
    failed = models.PositiveIntegerField(default=0)
    # Progress, written in the same transaction as each batch: rows before ``next_row`` are done.
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    next_row = models.PositiveIntegerField(default=0)
    batches_done = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    problem = models.CharField(max_length=300, blank=True)

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("uploaded"))
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        indexes = [models.Index(fields=["organization", "-created_at"], name="importjob_org_recent_idx")]

    def __str__(self) -> str:
        return self.filename

    def get_absolute_url(self) -> str:
        from django.urls import reverse

        return reverse("imports:detail", args=[self.pk])

    @property
    def percent(self) -> int:
        if self.state == ImportState.DONE:
            return 100
        if not self.total_rows:
            return 0
        done = self.created + self.updated + self.skipped + self.failed
        return min(99, done * 100 // self.total_rows)


class ImportIssue(TenantModel):
    """A row refused by the last run, with the cells as read (for the error sheet)."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="issues")
    row = models.PositiveIntegerField()  # as Excel numbers it
    column = models.CharField(max_length=100, blank=True)  # the header text
    message = models.CharField(max_length=300)
    cells = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["organization", "job", "row"], name="importissue_org_job_idx")]


class ImportedCustomer(TenantModel):
    """A file an import created: later rows of the same phone add cars to it, not duplicates."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="+")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="+")
    row = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["organization", "job", "customer"], name="importedcustomer_unique"),
        ]
