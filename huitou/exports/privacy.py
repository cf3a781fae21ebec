"""What exports keep about a person, for erasure: files made before it, and the filters typed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from huitou.exports.models import ExportJob
from huitou.exports.services import exports_remove_files
from huitou.privacy.registry import Person, PersonalDataKind, json_as_text, register


def erase_exports(person: Person) -> None:
    """A kept export file may list the person: every kept file of the organization is removed (a
    list can be exported again), and a search typed for the person leaves the jobs' filters."""
    jobs = ExportJob.objects.for_org(person.organization_id)
    exports_remove_files(jobs=jobs.filter(state=ExportJob.State.READY))
    mentioned = list(
        jobs.annotate(**json_as_text("filters")).filter(person.identifiers.mentioned_in(json_fields=["filters"]))
    )
    for job in mentioned:
        job.filters = person.identifiers.scrub_json(job.filters, own=True)
    jobs.bulk_update(mentioned, ["filters"])


register(PersonalDataKind("exports", _("Exports"), erase=erase_exports, order=900))
