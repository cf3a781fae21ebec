"""The lists that can be exported, by name.

An app makes one of its lists exportable by registering an ``ExportSource``
(in its ``AppConfig.ready()``): the customer list and the order list are
registered by ``huitou.exports.sources``; saved segments and ledger
statements register theirs the same way. A source reads the page's own
query parameters with the page's own rules (``filters``) and yields the
rows of the same selector the page shows (``rows``), so the export of a
filtered list is that list.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from django.utils.functional import Promise

from huitou.tenancy.models import Organization, User


@dataclass(frozen=True)
class Column:
    header: str | Promise
    width: int = 14  # characters, for the .xlsx


class ExportSource(ABC):
    """One exportable list.

    ``filters`` turns the page's (or the API's) query parameters into the
    normalised filters (JSON values: they are stored on the job and in the
    audit log); ``count`` and ``rows`` read the list under those filters as
    ``viewer`` sees it (masked phones stay masked). ``perm`` is what the
    viewer needs to export it; ``title`` names it on the exports page.
    """

    name: ClassVar[str]
    title: ClassVar[str | Promise]
    perm: ClassVar[str]
    columns: ClassVar[Sequence[Column]]

    @abstractmethod
    def filters(self, params: Mapping[str, Any], *, organization: Organization, viewer: User) -> dict[str, Any]: ...

    @abstractmethod
    def count(self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]) -> int: ...

    @abstractmethod
    def rows(
        self, *, organization: Organization, viewer: User, filters: Mapping[str, Any]
    ) -> Iterator[Sequence[Any]]: ...


_SOURCES: dict[str, ExportSource] = {}


def register(source: ExportSource) -> ExportSource:
    """Make ``source`` exportable under ``source.name`` (registering a name twice replaces it)."""
    _SOURCES[source.name] = source
    return source


def source_for(name: str) -> ExportSource | None:
    return _SOURCES.get(name)


def all_sources() -> dict[str, ExportSource]:
    return dict(_SOURCES)
