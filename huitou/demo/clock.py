"""The demo clock: the services write the story's dates, not today's."""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterator
from unittest import mock

from django.apps import apps
from django.utils import timezone


class DemoClock:
    """Stands in for ``timezone.now`` while the story is written.

    Besides ``django.utils.timezone.now`` itself it replaces the defaults of
    model fields declared ``default=timezone.now`` (a follow-up task's
    creation time): they hold the function, not the module's name for it.
    """

    def __init__(self, at: dt.datetime) -> None:
        self.at = at

    def __call__(self) -> dt.datetime:
        return self.at

    def set(self, at: dt.datetime) -> None:
        self.at = at

    @contextlib.contextmanager
    def running(self) -> Iterator[DemoClock]:
        real_now = timezone.now
        with contextlib.ExitStack() as stack:
            stack.enter_context(mock.patch("django.utils.timezone.now", self))
            for model in apps.get_models():
                for f in model._meta.concrete_fields:
                    if f.default is real_now:
                        # ``Field.get_default`` calls the cached ``_get_default``.
                        stack.enter_context(mock.patch.object(f, "_get_default", self))
            yield self
