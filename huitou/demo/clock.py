"""The demo's story time: the moment each step of the story happens, handed to the services as ``now``."""

from __future__ import annotations

import datetime as dt
import heapq
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class StoryClock:
    """Where the story is: every service call of the demo passes ``now=clock.at``.

    Nothing is patched: the services take the moment as an argument (their
    ``now`` keyword, the real time when not given).
    """

    at: dt.datetime
    #: The story never passes this moment (the real time when the demo is built).
    until: dt.datetime | None = None

    def set(self, at: dt.datetime) -> None:
        self.at = at

    def tick(self, minutes: float) -> None:
        self.at += dt.timedelta(minutes=minutes)
        if self.until is not None and self.at > self.until:
            self.at = self.until


Action = Callable[[dt.datetime], None]


@dataclass
class Agenda:
    """What the story owes at a later moment (a callback the day after a visit, a bill corrected the
    next day): each action runs with its moment when the story gets there, in time order."""

    _items: list[tuple[dt.datetime, int, Action]] = field(default_factory=list)
    _seq: itertools.count[int] = field(default_factory=itertools.count)

    def add(self, at: dt.datetime, action: Action) -> None:
        heapq.heappush(self._items, (at, next(self._seq), action))

    def next_at(self) -> dt.datetime | None:
        return self._items[0][0] if self._items else None

    def run_next(self) -> None:
        at, _seq, action = heapq.heappop(self._items)
        action(at)

    def __len__(self) -> int:
        return len(self._items)
